r"""A count-based n-gram language model with interpolated absolute discounting (Chapter 13).

The model's predictive distribution for the next token is a full row of ``V`` probabilities,
returned as log-probabilities so that it can be scored with :func:`companion.cross_entropy`
like any other model's logits.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["NGramLM"]


def _as_ids(ids, vocab_size, name):
    if isinstance(ids, torch.Tensor):
        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
        arr = ids.detach().cpu().numpy().astype(np.int64).reshape(-1)
    else:
        arr = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must hold integer token ids, got dtype {arr.dtype}")
        arr = arr.astype(np.int64).reshape(-1)
    if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
        bad = int(arr.max()) if arr.max() >= vocab_size else int(arr.min())
        raise ValueError(f"{name} has token id {bad} but the vocabulary has {vocab_size} tokens")
    return arr


def _context_codes(x, k, vocab_size):
    """Code of the k tokens before each position i >= k (positions k .. n-1)."""
    code = np.zeros(len(x) - k, dtype=np.int64)
    for j in range(k):
        code = code * vocab_size + x[j: len(x) - k + j]
    return code


class NGramLM:
    r"""An n-gram model over a closed vocabulary, smoothed by interpolated absolute discounting.

    With discount :math:`D \in (0, 1)`, counts :math:`c(h, w)` of token :math:`w` after the
    context :math:`h` (the previous :math:`k` tokens), :math:`c(h) = \sum_w c(h, w)` and
    :math:`T(h)` the number of distinct tokens seen after :math:`h`,

    .. math::

        q_k(w \mid h) = \frac{\max(c(h, w) - D, 0)}{c(h)}
            + \frac{D\, T(h)}{c(h)}\, q_{k-1}(w \mid h'),

    where :math:`h'` drops the oldest token of :math:`h`; a context never seen in training
    (:math:`c(h) = 0`) falls back to :math:`q_{k-1}`. The recursion ends at the unigram level,
    interpolated the same way with the uniform distribution :math:`1/V`, so every token of the
    vocabulary, seen or not, has positive probability and every row sums to one. At the start
    of a sequence the context is shortened to the tokens available.

    Args:
        order: ``n >= 1`` (1 = unigram, 2 = bigram, ...).
        vocab_size: ``V >= 1``, the closed vocabulary; token ids are ``0 .. V - 1``.
        discount: :math:`D`, in ``(0, 1)`` (default 0.75).

    Example:
        >>> import torch
        >>> from companion.ngram import NGramLM
        >>> lm = NGramLM(2, 3).fit([0, 1, 0, 1, 0, 2])
        >>> logp = lm.log_probs([0, 1, 0])       # (3, 3): one row per position
        >>> torch.allclose(logp.exp().sum(1), torch.ones(3, dtype=torch.float64))
        True
        >>> # q(1 | 0): "1" followed "0" twice in three
        >>> round(logp[1, 1].exp().item(), 4)
        0.5833

    References:
        Ney, Essen and Kneser (1994), *On structuring probabilistic dependences in stochastic
        language modelling*; Chen and Goodman (1999), *An empirical study of smoothing
        techniques for language modeling*.

    See also:
        Chapter 13, language models: perplexity and tokenisation.
    """

    def __init__(self, order, vocab_size, *, discount=0.75):
        for name, v in (("order", order), ("vocab_size", vocab_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        if isinstance(discount, bool) or not isinstance(discount, (int, float)) \
                or not 0.0 < discount < 1.0:
            raise ValueError(f"discount must be a number in (0, 1), got {discount!r}")
        if order > 1 and math.log(vocab_size) * (order - 1) >= math.log(2.0) * 62:
            raise ValueError(f"vocab_size ** (order - 1) must be below 2**62 (context codes), "
                             f"got vocab_size={vocab_size}, order={order}")
        self.order, self.vocab_size, self.discount = order, vocab_size, float(discount)
        self._levels = None

    def fit(self, ids):
        """Count the n-grams of one training sequence of token ids; returns ``self``.

        Raises:
            TypeError: ``ids`` are not integers.
            ValueError: ``ids`` is empty or has an id outside the vocabulary.
        """
        x = _as_ids(ids, self.vocab_size, "ids")
        if x.size == 0:
            raise ValueError("ids must hold at least one token")
        v = self.vocab_size
        levels = []
        for k in range(self.order):
            if len(x) <= k:
                levels.append(None)
                continue
            h = _context_codes(x, k, v)
            pair, counts = np.unique(h * v + x[k:], return_counts=True)
            ctx, first, n_types = np.unique(pair // v, return_index=True, return_counts=True)
            totals = np.add.reduceat(counts, first)
            # pair codes are sorted by context, so each context's followers are contiguous
            levels.append(dict(pair=pair, counts=counts, ctx=ctx, first=first,
                               n_types=n_types, totals=totals))
        self._levels = levels
        return self

    def log_probs(self, ids):
        r"""Log-probabilities of the next token at every position of ``ids``.

        Row ``i`` is :math:`\log q(\cdot \mid \text{ids}[i-n+1:i])`, the distribution of the
        token at position ``i`` given the tokens before it in ``ids`` (row 0 has no context).

        Args:
            ids: a sequence of ``N`` token ids.

        Returns:
            ``(N, V)`` float64 tensor whose rows are normalised log-probabilities; scoring it
            with ``cross_entropy(log_probs, ids)`` gives the model's per-token losses.

        Raises:
            RuntimeError: the model has not been fitted.
            TypeError, ValueError: as :meth:`fit`.
        """
        if self._levels is None:
            raise RuntimeError("call fit() before log_probs()")
        x = _as_ids(ids, self.vocab_size, "ids")
        v, d = self.vocab_size, self.discount
        n = len(x)
        uni = self._levels[0]
        # unigram level: a single empty context
        total = uni["totals"][0]
        counts = np.zeros(v)
        counts[uni["pair"] % v] = uni["counts"]
        p0 = np.maximum(counts - d, 0.0) / total + d * uni["n_types"][0] / total / v
        probs = np.tile(p0, (n, 1))
        for k in range(1, self.order):
            lev = self._levels[k]
            if lev is None or n <= k:
                continue
            h = _context_codes(x, k, v)                    # contexts of positions k .. n-1
            j = np.searchsorted(lev["ctx"], h)
            j_safe = np.minimum(j, len(lev["ctx"]) - 1)
            seen = (j < len(lev["ctx"])) & (lev["ctx"][j_safe] == h)
            pos = np.nonzero(seen)[0] + k                   # rows with a seen context
            c = j_safe[seen]
            tot = lev["totals"][c].astype(np.float64)
            probs[pos] *= (d * lev["n_types"][c] / tot)[:, None]
            # scatter the discounted counts of every follower of each row's context
            lens = lev["n_types"][c]
            starts = lev["first"][c]
            rows = np.repeat(pos, lens)
            offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
            idx = np.repeat(starts, lens) + offs
            probs[rows, lev["pair"][idx] % v] += (
                np.maximum(lev["counts"][idx] - d, 0.0) / np.repeat(tot, lens))
        return torch.from_numpy(np.log(probs))
