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
                                 ignore_index=-100, reduction="mean", class_weight=None,
                                 label_smoothing=0.0, z_loss_scale=0.0, softcap=None,
                                 return_predictions=False):
    """CE of z = c tanh((h W^T + b) / c) plus lam logsumexp(z)^2; chunking changes memory only."""
    z = np.asarray(hidden, dtype=np.float64) @ np.asarray(weight, dtype=np.float64).T
    if bias is not None:
        z = z + np.asarray(bias, dtype=np.float64)
    if softcap is not None:
        z = softcap * np.tanh(z / softcap)
    target = np.asarray(target)
    loss = cross_entropy(z, target, weight=class_weight, label_smoothing=label_smoothing,
                         ignore_index=ignore_index, reduction=reduction)
    if z_loss_scale:
        m = z.max(axis=-1, keepdims=True)
        lse = (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]
        counted = target != ignore_index
        zl = np.where(counted, z_loss_scale * lse ** 2, 0.0)
        if reduction == "none":
            loss = loss + zl
        elif reduction == "sum":
            loss = loss + zl.sum()
        else:
            loss = loss + (zl.sum() / counted.sum() if counted.sum() else 0.0)
    if return_predictions:
        return loss, np.where(target != ignore_index, z.argmax(axis=-1), ignore_index)
    return loss
