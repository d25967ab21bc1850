"""Reconstruction loss for mixed-type tables: one likelihood per column type.

The book's Chapter 15 (a tabular autoencoder).
"""
from __future__ import annotations

import math

import torch

from . import _checks as C
from .core import _binary_cross_entropy, cross_entropy

__all__ = ["mixed_reconstruction_loss"]

_KEYS = {"binary", "continuous", "categorical", "continuous_loss", "log_var"}


def _columns(value, name, width):
    try:
        cols = [int(c) for c in value]
    except (TypeError, ValueError) as err:
        raise TypeError(f"spec[{name!r}] must be a list of column indices, got {value!r}") from err
    for c in cols:
        if not 0 <= c < width:
            raise ValueError(f"spec[{name!r}] has column {c} but the tensor has {width} columns")
    return cols


def _take(t, cols):
    """Columns ``cols`` of ``t``: a view when they are a run of consecutive columns (no copy,
    and a backward that writes a slice), a gathered copy otherwise."""
    if cols and cols == list(range(cols[0], cols[0] + len(cols))):
        return t[:, cols[0]:cols[0] + len(cols)]
    return t[:, cols]


def _check_unit_columns(t, kind):
    if t.numel():
        lo, hi = torch.aminmax(t.detach())  # one pass; NaN propagates and fails both
        if not (bool(lo >= 0) and bool(hi <= 1)):
            raise ValueError(f"batch has {kind} columns outside [0, 1] (or NaN)")


def mixed_reconstruction_loss(outputs, batch, spec):
    r"""Negative log-likelihood of a mixed-type row, summed over columns, averaged over rows.

    .. math::

        \mathcal L = \frac1N \sum_n \Bigl[
            \sum_{j \in \mathcal B} \operatorname{BCE}(o_{nj}, x_{nj})
          + \sum_{j \in \mathcal R} \tfrac12 (o_{nj} - x_{nj})^2
          + \sum_{g \in \mathcal G} -\log \operatorname{softmax}(o_{n,g})^\top x_{n,g}
        \Bigr]

    Binary columns :math:`\mathcal B` are scored by a Bernoulli likelihood from logits,
    continuous columns :math:`\mathcal R` by a unit-variance Gaussian (half the squared error;
    the constant :math:`\tfrac12\log 2\pi` is dropped), or with
    ``spec["continuous_loss"] = "gaussian_nll"`` by a Gaussian with a predicted log-variance
    :math:`v`: :math:`\tfrac12\bigl(v + (o - x)^2 e^{-v} + \log 2\pi\bigr)`; each categorical
    group :math:`g` (its one-hot columns) by a softmax cross-entropy. Every term is a
    negative log-likelihood in nats, so the types are on one scale.

    Layout: ``batch`` holds the encoded row (0/1 binaries, real values, one-hot groups) and
    ``outputs`` the decoder's predictions at the same column indices (logits for binaries and
    groups, means for continuous columns); ``outputs`` may have extra columns, e.g. for the
    log-variances.

    Args:
        outputs: ``(N, F_out)`` decoder outputs, floating; half precision is computed in
            float32. A categorical logit may be ``-inf`` (a category ruled out: it contributes
            0 where the one-hot column is 0); other infinities are not supported.
        batch: ``(N, F)`` encoded data with ``F <= F_out``, finite in the columns used. An
            empty batch (``N = 0``) gives 0 for every part.
        spec: dict with optional keys ``"binary"`` (list of columns), ``"continuous"`` (list of
            columns), ``"categorical"`` (list of lists of columns, one list per group),
            ``"continuous_loss"`` (``"squared_error"``, the default, or ``"gaussian_nll"``) and
            ``"log_var"`` (output columns holding :math:`v`, one per continuous column; needed
            for ``"gaussian_nll"``).

    Returns:
        A dict of scalars in the dtype of ``outputs``: ``"binary"``, ``"continuous"``,
        ``"categorical"`` (each a mean over rows of the sum over that type's columns, 0 for a
        type with no columns) and ``"total"``, their sum.

    Raises:
        TypeError: a tensor is not floating, ``spec`` is not a dict, or a column list is not a
            list of ints.
        ValueError: the shapes disagree, a column is out of range, ``spec`` has an unknown key
            or an empty categorical group, a binary or one-hot column holds values outside
            ``[0, 1]`` or NaN, or a continuous column holds NaN or inf.

    Example:
        >>> import torch
        >>> from companion import mixed_reconstruction_loss
        >>> # a binary column, a real one and a 3-way one-hot group
        >>> batch = torch.tensor([[1.0, 0.5, 0.0, 1.0, 0.0]])
        >>> outputs = torch.tensor([[2.0, 0.0, 0.0, 1.0, 0.0]])
        >>> spec = {"binary": [0], "continuous": [1], "categorical": [[2, 3, 4]]}
        >>> parts = mixed_reconstruction_loss(outputs, batch, spec)
        >>> {k: round(v.item(), 4) for k, v in parts.items()}
        {'binary': 0.1269, 'continuous': 0.125, 'categorical': 0.5514, 'total': 0.8034}

    References:
        Ma et al. (2020), *VAEM: a deep generative model for heterogeneous mixed type data*,
        https://arxiv.org/abs/2006.11941; Nazábal et al. (2020), *Handling incomplete
        heterogeneous data using VAEs*, https://arxiv.org/abs/1807.03653.

    See also:
        Chapter 15, self-supervised and unsupervised learning.
    """
    C.check_floating(outputs, "outputs")
    C.check_floating(batch, "batch")
    if not isinstance(spec, dict):
        raise TypeError(f"spec must be a dict, got {type(spec).__name__}")
    unknown = set(spec) - _KEYS
    if unknown:
        raise ValueError(f"spec has unknown key {sorted(unknown)[0]!r}; expected keys among {sorted(_KEYS)}")
    if outputs.dim() != 2 or batch.dim() != 2 or outputs.shape[0] != batch.shape[0] \
            or outputs.shape[1] < batch.shape[1]:
        raise ValueError(f"outputs has shape {tuple(outputs.shape)} and batch has shape "
                         f"{tuple(batch.shape)}; expected (N, F_out) and (N, F) with F <= F_out")
    C.check_same_device("outputs", outputs, "batch", batch)
    width = batch.shape[1]
    binary = _columns(spec.get("binary", []), "binary", width)
    continuous = _columns(spec.get("continuous", []), "continuous", width)
    groups = spec.get("categorical", [])
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise TypeError(f"spec['categorical'] must be a list of column lists, got {groups!r}")
    groups = [_columns(g, "categorical", width) for g in groups]
    if any(not g for g in groups):
        raise ValueError("spec['categorical'] has an empty group; each group lists the output "
                         "columns of one one-hot variable")
    mode = spec.get("continuous_loss", "squared_error")
    if mode not in ("squared_error", "gaussian_nll"):
        raise ValueError(f"spec['continuous_loss'] must be 'squared_error' or 'gaussian_nll', got {mode!r}")
    log_var_cols = None
    if mode == "gaussian_nll":
        if "log_var" not in spec:
            raise ValueError("spec['log_var'] must list one output column per continuous column "
                             "when continuous_loss is 'gaussian_nll'")
        log_var_cols = _columns(spec["log_var"], "log_var", outputs.shape[1])
        if len(log_var_cols) != len(continuous):
            raise ValueError(f"spec['log_var'] has {len(log_var_cols)} columns but spec['continuous'] "
                             f"has {len(continuous)}")
    dtype = C.compute_dtype(outputs)
    o, x = outputs.to(dtype), batch.to(dtype)
    n = max(o.shape[0], 1)  # an empty batch: every sum is 0, and so is every mean
    zero = o[:0].sum()  # 0 on the graph and the device, for a type with no columns (even at -inf)
    losses = {"binary": zero, "continuous": zero, "categorical": zero}
    if binary:
        xb = _take(x, binary)
        _check_unit_columns(xb, "binary")
        # binary_cross_entropy (its target checked just above): exact for soft targets at
        # extreme logits, closed-form gradient
        losses["binary"] = _binary_cross_entropy(_take(o, binary), xb, None, None, None,
                                                 "sum") / n
    if continuous:
        xc = _take(x, continuous)
        if not bool(torch.isfinite(xc).all()):
            raise ValueError("batch has NaN or inf in a continuous column; values must be finite")
        err2 = (_take(o, continuous) - xc) ** 2
        if log_var_cols is None:
            losses["continuous"] = 0.5 * err2.sum() / n
        else:
            v = _take(o, log_var_cols)
            losses["continuous"] = 0.5 * (v + err2 * torch.exp(-v) + math.log(2 * math.pi)).sum() / n
    if groups:
        total = zero
        by_size = {}
        for cols in groups:  # a few column groups, not examples or classes
            by_size.setdefault(len(cols), []).extend(cols)
        for size, cols in by_size.items():  # the groups of one size as one (N, G, size) batch
            t = _take(x, cols)
            _check_unit_columns(t, "one-hot")
            # cross_entropy: 0 log 0 = 0 at a ruled-out (-inf) category, closed-form gradient
            total = total + cross_entropy(_take(o, cols).unflatten(1, (-1, size)),
                                          t.unflatten(1, (-1, size)), reduction="sum") / n
        losses["categorical"] = total
    losses["total"] = losses["binary"] + losses["continuous"] + losses["categorical"]
    return {k: v.to(outputs.dtype) for k, v in losses.items()}
