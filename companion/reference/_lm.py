"""References for companion.lm."""
import math

import numpy as np

from ._core import cross_entropy


def perplexity(mean_nll_nats):
    """PPL = exp(mean NLL in nats)."""
    return np.exp(np.asarray(mean_nll_nats, dtype=np.float64))


def nats_to_bits(x):
    """bits = nats / ln 2."""
    return np.asarray(x, dtype=np.float64) / math.log(2.0)


def bits_per_character(total_nll_nats, num_characters):
    """BPC = total NLL in nats / (C ln 2)."""
    return np.asarray(total_nll_nats, dtype=np.float64) / (num_characters * math.log(2.0))


def chunked_linear_cross_entropy(hidden, weight, target, *, bias=None, chunk_size=4096,
                                 ignore_index=-100, reduction="mean"):
    """Cross-entropy of the logits z = h W^T + b; chunking changes memory, not the value."""
    z = np.asarray(hidden, dtype=np.float64) @ np.asarray(weight, dtype=np.float64).T
    if bias is not None:
        z = z + np.asarray(bias, dtype=np.float64)
    return cross_entropy(z, target, ignore_index=ignore_index, reduction=reduction)
