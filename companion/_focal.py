"""Focal losses, computed in log space (re-exported by ``companion.imbalance``).

The modulating factor (1 - p_t)^gamma is evaluated as exp(gamma * log(1 - p_t)) with
log(1 - p_t) taken from log-sigmoid or from a log-sum-exp over the other classes, so that the
gradient stays finite for every gamma >= 0 and any finite logits: the probability-space form
(1 - p_t) ** gamma has an infinite derivative at p_t = 1 when gamma < 1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _checks as C


def _modulator(log_one_minus_pt: torch.Tensor, gamma: float) -> torch.Tensor:
    # gamma = 0 must give exactly 1, also where log(1 - p_t) = -inf (a single class)
    if gamma == 0.0:
        return torch.ones_like(log_one_minus_pt)
    return torch.exp(gamma * log_one_minus_pt)


def focal_loss(logits, target, *, gamma=2.0, alpha=None, ignore_index=-100, reduction="mean"):
    r"""Softmax focal loss for hard targets.

    .. math::

        \ell_n = -\alpha_{y_n}\,(1 - p_{t})^{\gamma} \log p_{t},\qquad
        p_t = \operatorname{softmax}(z_n)_{y_n}

    With :math:`\gamma = 0` this is :func:`companion.cross_entropy` with ``weight=alpha``, in
    value, gradient and reduction. :math:`\log(1-p_t)` is a log-sum-exp over the other
    classes, so the loss and its gradient are finite for any finite logits and any
    :math:`\gamma \ge 0`.

    Args:
        logits: ``(..., K)`` floating tensor.
        target: ``(...)`` integer class indices.
        gamma: focusing parameter :math:`\gamma \ge 0`.
        alpha: optional ``(K,)`` non-negative class weights :math:`\alpha_k`.
        ignore_index: target value that is left out of the loss and of the mean.
        reduction: ``"mean"`` (divided by :math:`\sum_n \alpha_{y_n}` over counted examples,
            as for weighted cross-entropy) | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or ``(...)`` per-example losses for ``"none"``.

    Example:
        >>> import torch
        >>> from companion import focal_loss, cross_entropy
        >>> z, y = torch.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), torch.tensor([0, 1])
        >>> round(focal_loss(z, y, gamma=2.0).item(), 4)
        0.0499
        >>> bool(torch.isclose(focal_loss(z, y, gamma=0.0), cross_entropy(z, y)))
        True

    References:
        Lin et al. (2017), *Focal loss for dense object detection*,
        https://arxiv.org/abs/1708.02002.

    See also:
        Chapter 2, focal loss and hard examples.
    """
    C.check_logits(logits)
    C.check_reduction(reduction)
    g = C.check_nonnegative_number(gamma, "gamma")
    k = logits.shape[-1]
    C.check_class_weight(alpha, k, name="alpha", like=logits)
    C.check_hard_target(logits, target, ignore_index=ignore_index)
    z = logits.to(C.compute_dtype(logits))
    valid = target != ignore_index
    safe = torch.where(valid, target, torch.zeros_like(target)).long().unsqueeze(-1)
    log_p = F.log_softmax(z, dim=-1)
    log_pt = log_p.gather(-1, safe).squeeze(-1)
    # log(1 - p_t) = logsumexp over k != t of log p_k: the true class masked to -inf
    others = log_p.scatter(-1, safe, float("-inf"))
    log_one_minus_pt = torch.logsumexp(others, dim=-1)
    loss = -_modulator(log_one_minus_pt, g) * log_pt
    a_t = torch.ones_like(loss) if alpha is None else alpha.to(z.dtype)[safe.squeeze(-1)]
    loss = torch.where(valid, a_t * loss, torch.zeros_like(loss))
    denominator = torch.where(valid, a_t, torch.zeros_like(a_t)).sum()
    return C.reduce(loss, reduction, denominator).to(logits.dtype)


def binary_focal_loss(logits, target, *, gamma=2.0, alpha=0.25, reduction="mean"):
    r"""Sigmoid focal loss with torchvision's semantics, computed in log space.

    .. math::

        \ell = \alpha_t\,(1-p_t)^{\gamma}\,\mathrm{BCE}(z, y),\qquad
        p_t = y\,\sigma(z) + (1-y)(1-\sigma(z)),\qquad \alpha_t = \alpha y + (1-\alpha)(1-y)

    Equals ``torchvision.ops.sigmoid_focal_loss(logits, target, alpha, gamma, reduction)``
    wherever that is finite, and stays finite where it is not (:math:`\gamma < 1` at saturated
    logits). Soft targets in ``[0, 1]`` are allowed, as in torchvision.

    Args:
        logits: floating tensor of any shape.
        target: floating tensor of the same shape with entries in ``[0, 1]``.
        gamma: focusing parameter :math:`\gamma \ge 0`.
        alpha: weight of the positive class in ``[0, 1]``; ``None`` (or a negative number, as
            torchvision accepts) switches the balancing off.
        reduction: ``"mean"`` over all elements | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the elementwise losses for ``"none"``.

    Example:
        >>> import torch
        >>> from companion import binary_focal_loss
        >>> z, y = torch.tensor([4.0, -1.0, 0.0]), torch.tensor([1.0, 1.0, 0.0])
        >>> round(binary_focal_loss(z, y).item(), 4)
        0.1018

    References:
        Lin et al. (2017), https://arxiv.org/abs/1708.02002.

    See also:
        Chapter 2, focal loss and hard examples.
    """
    C.check_floating(logits, "logits")
    C.check_reduction(reduction)
    g = C.check_nonnegative_number(gamma, "gamma")
    C.check_floating(target, "target")
    C.check_same_shape("logits", logits, "target", target)
    C.check_same_device("logits", logits, "target", target)
    if target.numel() and bool(((target < 0) | (target > 1)).any()):
        raise ValueError("target must lie in [0, 1]")
    if alpha is not None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise TypeError(f"alpha must be a number or None, got {type(alpha).__name__}")
        if alpha > 1:
            raise ValueError(f"alpha must lie in [0, 1] (or be None / negative for no balancing), got {alpha}")
        if alpha < 0:
            alpha = None
    dtype = C.compute_dtype(logits)
    z, y = logits.to(dtype), target.to(dtype)
    log_sig = F.logsigmoid(z)        # log p
    log_sig_neg = F.logsigmoid(-z)   # log(1 - p) = log sigmoid(-z)
    bce = -(y * log_sig + (1.0 - y) * log_sig_neg)
    # 1 - p_t = y (1 - p) + (1 - y) p; in logs a log-add-exp, with log 0 = -inf where y is 0 or 1
    log_one_minus_pt = torch.logaddexp(torch.log(y) + log_sig_neg, torch.log1p(-y) + log_sig)
    loss = _modulator(log_one_minus_pt, g) * bce
    if alpha is not None:
        loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss
    return C.reduce(loss, reduction).to(logits.dtype)
