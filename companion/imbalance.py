"""Class imbalance: class and sampling weights, focal losses and logit adjustment.

The book's Chapter 1 (weights, resampling, logit adjustment) and Chapter 2 (focal loss).
"""
from __future__ import annotations

import math

import torch

from . import _checks as C
from ._focal import binary_focal_loss, focal_loss
from .core import cross_entropy

__all__ = [
    "class_weights", "sampling_weights", "focal_loss", "binary_focal_loss", "logit_adjust",
    "logit_adjusted_cross_entropy",
]

_SCHEMES = ("inverse", "inverse_sqrt", "effective")


def _as_counts(counts) -> torch.Tensor:
    if isinstance(counts, torch.Tensor):
        t = counts
    else:
        try:
            t = torch.as_tensor(counts)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"counts must be a 1-D tensor or sequence of numbers, got {counts!r}") from err
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"counts must hold real numbers, got dtype {t.dtype}")
    if t.dim() != 1 or t.numel() == 0:
        raise ValueError(f"counts must be a non-empty 1-D tensor, got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    if not bool((t > 0).all()):  # NaN fails too
        raise ValueError("counts must be positive for every class: a class with no examples has "
                         "no defined inverse frequency")
    C.check_finite(t, "counts")
    return t


def class_weights(counts, scheme="inverse", *, beta=0.999, normalize=True):
    r"""Per-class loss weights from class counts.

    .. math::

        \begin{aligned}
        w_k &\propto \frac{1}{n_k}\ (\texttt{"inverse"}),\qquad
        w_k \propto \frac{1}{\sqrt{n_k}}\ (\texttt{"inverse\_sqrt"}),\\
        w_k &\propto \frac{1-\beta}{1-\beta^{n_k}}\ (\texttt{"effective"})
        \end{aligned}

    Since :math:`\pi_k = n_k / n`, the inverse scheme is :math:`w_k \propto 1/\pi_k`. The
    effective-number scheme of Cui et al. (2019) interpolates between no weighting
    (:math:`\beta = 0`) and inverse frequency (:math:`\beta \to 1`).

    Args:
        counts: ``(K,)`` positive finite class counts (tensor or sequence).
        scheme: ``"inverse"``, ``"inverse_sqrt"`` or ``"effective"``.
        beta: :math:`\beta \in [0, 1)` for the effective scheme.
        normalize: scale the weights to mean 1, so that the loss keeps its usual size.

    Returns:
        ``(K,)`` floating tensor of weights, ready for ``cross_entropy(..., weight=w)``.

    Raises:
        TypeError: ``counts`` is not numeric.
        ValueError: ``counts`` is not 1-D or not positive, ``scheme`` is unknown, or ``beta``
            lies outside ``[0, 1)``.

    Example:
        >>> import torch
        >>> from companion import class_weights
        >>> w = class_weights(torch.tensor([900.0, 90.0, 10.0]))
        >>> [round(v, 4) for v in w.tolist()]
        [0.0297, 0.297, 2.6733]
        >>> w = class_weights([900, 90, 10], normalize=False)
        >>> [round(v, 4) for v in w.tolist()]
        [0.0011, 0.0111, 0.1]

    References:
        Cui et al. (2019), *Class-balanced loss based on effective number of samples*,
        https://arxiv.org/abs/1901.05555.

    See also:
        Chapter 1, weighted cross-entropy.
    """
    if scheme not in _SCHEMES:
        raise ValueError(f"scheme must be 'inverse', 'inverse_sqrt' or 'effective', got {scheme!r}")
    counts_dtype = _as_counts(counts).dtype
    # computed in float32 at least, so that half-precision counts are rounded once, at the end
    n = _as_counts(counts).to(torch.promote_types(counts_dtype, torch.float32))
    if scheme == "inverse":
        w = 1.0 / n
    elif scheme == "inverse_sqrt":
        w = n.rsqrt()
    else:
        b = C.check_nonnegative_number(beta, "beta")
        if b >= 1.0:
            raise ValueError(f"beta must lie in [0, 1), got {b}")
        if b == 0.0:
            w = torch.ones_like(n)
        else:
            # 1 - beta**n as -expm1(n log beta), in float64: exact for beta close to 1
            n64 = n.to(torch.float64)
            w = ((1.0 - b) / -torch.expm1(n64 * math.log(b))).to(n.dtype)
    if normalize:
        w = w * (w.numel() / w.sum())
    return w.to(counts_dtype)


def sampling_weights(labels, num_classes=None):
    r"""Per-example weights that make every class equally likely under weighted sampling.

    Example :math:`i` with label :math:`y_i` gets weight :math:`1 / n_{y_i}`, so each class
    carries total weight 1. Pass the result to ``torch.utils.data.WeightedRandomSampler``.

    Args:
        labels: ``(N,)`` integer class labels.
        num_classes: number of classes ``K``; inferred as ``labels.max() + 1`` when ``None``.

    Returns:
        ``(N,)`` tensor of weights in the default floating dtype.

    Example:
        >>> import torch
        >>> from companion import sampling_weights
        >>> sampling_weights(torch.tensor([0, 0, 0, 1]))
        tensor([0.3333, 0.3333, 0.3333, 1.0000])

    See also:
        Chapter 1, rebalanced sampling.
    """
    C.check_tensor(labels, "labels")
    if labels.is_floating_point() or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels must hold integer class indices, got dtype {labels.dtype}")
    if labels.dim() != 1 or labels.numel() == 0:
        raise ValueError(f"labels must be a non-empty 1-D tensor, got shape {tuple(labels.shape)}")
    if bool((labels < 0).any()):
        raise ValueError(f"labels has negative class index {int(labels.min())}")
    k = int(labels.max()) + 1 if num_classes is None else num_classes
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if int(labels.max()) >= k:
        raise ValueError(f"labels has class index {int(labels.max())} but num_classes is {k}")
    counts = torch.bincount(labels, minlength=k).to(torch.get_default_dtype())
    return 1.0 / counts[labels]


def _check_priors(priors, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    C.check_floating(priors, "priors")
    if priors.shape != (num_classes,):
        raise ValueError(f"priors has shape {tuple(priors.shape)} but must have shape "
                         f"({num_classes},), one prior per class")
    C.check_same_device("logits", like, "priors", priors)
    if priors.numel() and not bool((priors > 0).all()):  # NaN fails too
        raise ValueError("priors must be positive: log(0) would send a logit to -inf")
    C.check_finite(priors, "priors")
    return priors


def _check_tau(tau) -> float:
    if isinstance(tau, bool) or not isinstance(tau, (int, float)):
        raise TypeError(f"tau must be a real number, got {type(tau).__name__}")
    if not math.isfinite(tau):
        raise ValueError(f"tau must be finite, got {tau}")
    return float(tau)


def _adjusted(logits, priors, tau):
    """z + tau log(pi) in the compute dtype (float32 for half precision), after the checks."""
    C.check_logits(logits)
    _check_priors(priors, logits.shape[-1], logits)
    t = _check_tau(tau)
    dtype = C.compute_dtype(logits)
    return logits.to(dtype) + t * torch.log(priors.to(dtype))


def logit_adjust(logits, priors, tau=1.0):
    r"""Shift logits by the log class priors: :math:`z_k + \tau \log \pi_k`.

    By Bayes' rule, :math:`\log p(y\mid x) = \log p(x\mid y) + \log \pi_y + \text{const}`.
    Adding :math:`\tau\log\pi` to logits trained for balanced classes moves them to a test
    set with priors :math:`\pi`; subtracting (``tau=-1``) removes a training prior.

    Args:
        logits: ``(..., K)`` floating tensor; half precision is computed in float32 and the
            result rounded once to the input's dtype. ``-inf`` (a mask) stays ``-inf``.
        priors: ``(K,)`` positive finite class priors (need not sum to one: a constant shift
            does not change the softmax).
        tau: the scale :math:`\tau` (any finite real number).

    Returns:
        ``(..., K)`` adjusted logits in the dtype of ``logits``.

    Example:
        >>> import torch
        >>> from companion import logit_adjust
        >>> logit_adjust(torch.zeros(2), torch.tensor([0.9, 0.1])).softmax(-1)
        tensor([0.9000, 0.1000])

    References:
        Menon et al. (2021), *Long-tail learning via logit adjustment*,
        https://arxiv.org/abs/2007.07314.

    See also:
        Chapter 1, logit adjustment.
    """
    return _adjusted(logits, priors, tau).to(logits.dtype)


def logit_adjusted_cross_entropy(logits, target, priors, *, tau=1.0, reduction="mean"):
    r"""Cross-entropy of the prior-adjusted logits, the loss form of logit adjustment.

    .. math::

        \ell = -\log \frac{e^{z_y + \tau\log\pi_y}}{\sum_k e^{z_k + \tau\log\pi_k}}

    Training with this loss leaves the raw logits :math:`z` estimating the *balanced*
    posterior; predict with ``logits.argmax(-1)`` for balanced error.

    Args:
        logits: ``(..., K)`` floating tensor; half precision is computed in float32 (the
            adjusted logits included) and the loss returned in the input's dtype. ``-inf``
            logits are masks, as in :func:`companion.cross_entropy`.
        target: ``(...)`` class indices or ``(..., K)`` probabilities.
        priors: ``(K,)`` positive finite training-class priors.
        tau: the scale :math:`\tau` (finite).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Example:
        >>> import torch
        >>> from companion import logit_adjusted_cross_entropy
        >>> z = torch.zeros(1, 2)
        >>> priors = torch.tensor([0.9, 0.1])
        >>> loss = logit_adjusted_cross_entropy(z, torch.tensor([1]), priors)
        >>> round(loss.item(), 4)
        2.3026

    References:
        Menon et al. (2021), https://arxiv.org/abs/2007.07314.

    See also:
        Chapter 1, logit adjustment.
    """
    # the adjusted logits stay in float32 for half-precision input: rounding them to half
    # before the loss would cost several ulps of the result
    return cross_entropy(_adjusted(logits, priors, tau), target, reduction=reduction).to(logits.dtype)
