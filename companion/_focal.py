"""Focal losses, computed without cancellation (re-exported by ``companion.imbalance``).

The softmax focal loss evaluates the modulating factor (1 - p_t)^gamma as
exp(gamma * log(1 - p_t)) with log(1 - p_t) a log-sum-exp over the other classes. The binary
focal loss is a ``torch.autograd.Function`` whose forward computes the loss and its closed-form
gradient together (derivations beside the code), from sigmoid(z) and sigmoid(-z) computed
separately, never 1 - p. Both keep the gradient finite for every gamma >= 0 and any finite
logits: the probability-space form (1 - p_t) ** gamma has an infinite derivative at p_t = 1
when gamma < 1.
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
    value, gradient and reduction. :math:`1 - p_t` is the summed probability of the other
    classes (never a subtraction from 1), so the loss and its gradient are finite for
    any finite logits and any :math:`\gamma \ge 0`, and every derivative is 0 for a single
    class (:math:`K = 1`), where the loss is identically 0. The gradient is computed in
    closed form in one pass (a custom autograd Function); double backward works (it
    differentiates the composed form), and so does a gradient with respect to ``alpha``.

    Args:
        logits: ``(..., K)`` floating tensor; half precision is computed in float32. A logit
            may be ``-inf`` (a masked class, contributing nothing); the loss is ``+inf`` if the
            target's logit is ``-inf``. ``+inf`` or NaN logits give NaN.
        target: ``(...)`` integer class indices.
        gamma: focusing parameter :math:`\gamma \ge 0`, finite.
        alpha: optional ``(K,)`` finite non-negative class weights :math:`\alpha_k`.
        ignore_index: target value that is left out of the loss and of the mean.
        reduction: ``"mean"`` (divided by :math:`\sum_n \alpha_{y_n}` over counted examples,
            as for weighted cross-entropy) | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or ``(...)`` per-example losses for ``"none"``.

    Example:
        >>> import torch
        >>> from companion import focal_loss, cross_entropy
        >>> z = torch.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        >>> y = torch.tensor([0, 1])
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
    safe = torch.where(valid, target, torch.zeros_like(target)).long()
    a = None if alpha is None else alpha.to(z.dtype)
    if a is not None and a.requires_grad and torch.is_grad_enabled():
        # the closed-form backward has no gradient for alpha
        return _focal_composed(z, safe, valid, a, g, reduction).to(logits.dtype)
    return _FocalLoss.apply(z, safe, valid, a, g, reduction).to(logits.dtype)


def _focal_weights(safe, valid, a, like):
    """alpha_t on counted rows (0 on ignored ones) and the mean's divisor, sum of alpha_t."""
    a_t = torch.ones(safe.shape, dtype=like.dtype, device=like.device) if a is None else a[safe]
    a_t = torch.where(valid, a_t, torch.zeros_like(a_t))
    return a_t, a_t.sum()


def _row_shift(z):
    """Each row's maximum (detached; 0 for a row without a finite maximum)."""
    m = z.detach().amax(-1, keepdim=True)
    return torch.where(torch.isfinite(m), m, torch.zeros_like(m))


def _focal_composed(z, safe, valid, a, gamma, reduction):
    """The focal loss composed of differentiable torch ops (double backward, alpha's gradient).

    The same arithmetic as the closed form: with m the row maximum, e_k = exp(z_k - m) and S
    the sum of e_k over the classes other than the target,

        log Z = log1p(S + expm1(z_t - m)),  log p_t = (z_t - m) - log Z,
        log(1 - p_t) = log S - log Z,

    where log S is taken only where S > 0 (a double where, so that a single class or a row of
    -inf logits gives log(1 - p_t) = -inf with finite derivatives of every order).
    """
    shifted = z - _row_shift(z)
    index = safe.unsqueeze(-1)
    z_t = shifted.gather(-1, index).squeeze(-1)
    is_target = torch.zeros_like(shifted, dtype=torch.bool).scatter_(-1, index, True)
    e = torch.exp(shifted)
    others = torch.where(is_target, torch.zeros_like(e), e).sum(-1)
    log_z = torch.log1p(others + torch.expm1(z_t))
    log_pt = z_t - log_z
    positive = others > 0
    log_others = torch.where(positive, torch.log(torch.where(positive, others, torch.ones_like(others))),
                             torch.full_like(others, float("-inf")))
    loss = -_modulator(log_others - log_z, gamma) * log_pt
    a_t, den = _focal_weights(safe, valid, a, z)
    loss = torch.where(valid, a_t * loss, torch.zeros_like(loss))
    return C.reduce(loss, reduction, den)


class _FocalLoss(torch.autograd.Function):
    """Softmax focal loss with its gradient in closed form (one pass over the logits each way).

    With s = 1 - p_t, L = log p_t and the loss a_t s^gamma (-L), the derivative is

        d loss / d z_k = a_t (p_k - [k = t]) (s^gamma - gamma p_t s^(gamma - 1) L)
                       = G_n * p_k / s   (k != t),      -G_n   (k = t),
        G_n = a_t s^gamma (s - gamma p_t L)  >= 0,

    so no factor s^(gamma - 1) is ever formed: the gradient is finite for every gamma >= 0 and
    is 0 for a single class (s = 0). Forward takes one fused softmax, reads p_t and zeroes it,
    and sums the rest: s is the sum of the other classes' probabilities, never 1 - p_t, and
    L = log1p(-s) where p_t > 1/2 (accurate near p_t = 1), log p_t elsewhere, and the exact
    z_t - logsumexp(z) on the rows whose p_t is below the smallest normal number. Backward
    scales the saved p (target zeroed) by G_n / s and writes -G_n at the target. Under
    ``create_graph=True`` it differentiates the composed form instead.
    """

    @staticmethod
    def forward(ctx, z, safe, valid, a, gamma, reduction):
        index = safe.unsqueeze(-1)
        p = torch.softmax(z, -1)
        p_t = p.gather(-1, index).squeeze(-1)
        p.scatter_(-1, index, 0.0)                            # the other classes only
        s = p.sum(-1)                                         # 1 - p_t without cancellation
        log_pt = torch.where(p_t > 0.5, torch.log1p(-s), torch.log(p_t))
        tiny = p_t < torch.finfo(p.dtype).tiny                # p_t underflowed: exact form
        if bool(tiny.any()):
            rows = z[tiny]
            log_pt[tiny] = rows.gather(-1, index[tiny]).squeeze(-1) - torch.logsumexp(rows, -1)
        mod = _modulator(torch.log(s), gamma)                 # s^gamma (log 0 = -inf: 0)
        a_t, den = _focal_weights(safe, valid, a, z)
        loss = torch.where(valid, -(a_t * mod) * log_pt, torch.zeros_like(log_pt))
        ctx.save_for_backward(z, p, safe, valid, a, s, log_pt, mod, a_t, den)
        ctx.gamma, ctx.reduction = gamma, reduction
        return C.reduce(loss, reduction, den)

    @staticmethod
    def backward(ctx, grad_output):
        z, p, safe, valid, a, s, log_pt, mod, a_t, den = ctx.saved_tensors
        gamma, reduction = ctx.gamma, ctx.reduction
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            loss = _focal_composed(z, safe, valid, a, gamma, reduction)
            (grad,) = torch.autograd.grad(loss, z, grad_output, create_graph=True)
            return grad, None, None, None, None, None
        if reduction == "mean":
            g = torch.where(den > 0, grad_output / torch.where(den > 0, den, torch.ones_like(den)),
                            torch.zeros_like(grad_output))
        else:
            g = grad_output
        big_g = g * a_t * mod * (s - gamma * torch.exp(log_pt) * log_pt)   # G_n (0 if ignored)
        big_g = torch.where(valid, big_g, torch.zeros_like(big_g))
        coef = big_g / s.clamp_min(torch.finfo(s.dtype).tiny)
        grad = p * coef.unsqueeze(-1)                         # G_n p_k / s off the target
        grad.scatter_(-1, safe.unsqueeze(-1), -big_g.unsqueeze(-1))
        return grad, None, None, None, None, None


def _binary_focal_kernel(z, y, gamma, alpha, scale, need_grad=True, hard=False):
    """Elementwise binary focal loss and its closed-form gradient.

    ``z``, ``y`` in the compute dtype; ``alpha`` a float or None; ``hard`` says that every
    target is 0 or 1. Returns ``(w, bce, grad)`` with the elementwise loss ``w * bce``; ``w``
    and ``grad`` carry the factor ``scale`` (1/n for a mean), ``grad`` is None unless
    ``need_grad``.
    """
    if alpha is None:
        a0 = a1 = scale
    else:
        # scale * a_t = scale * (alpha y + (1 - alpha)(1 - y)): a lerp from (1 - alpha) to alpha
        a0, a1 = scale * (1.0 - alpha), scale * alpha
    if hard:
        return _binary_focal_hard(z, y, gamma, a0, a1, need_grad)
    return _binary_focal_soft(z, y, gamma, a0, a1, need_grad)


def _scalar(x, like):
    return torch.tensor(x, dtype=like.dtype, device=like.device)


def _modulating(s, gamma):
    """s^gamma for s in [0, 1]: exp(gamma log s) (log 0 = -inf gives 0), s * s for gamma = 2."""
    if gamma == 1.0:
        return s
    if gamma == 2.0:
        return s * s
    return torch.log(s).mul_(gamma).exp_()


def _binary_focal_hard(z, y, gamma, a0, a1, need_grad):
    """Targets in {0, 1}: everything is a function of the signed logit u = (2y - 1) z.

    With p_t = sigmoid(u) and 1 - p_t = sigmoid(-u), both computed directly (no 1 - p):

        loss = a_t sigmoid(-u)^gamma softplus(-u)          (softplus(-u) = -log p_t = BCE)
        d loss / du = -a_t sigmoid(-u)^gamma [gamma sigmoid(u) softplus(-u) + sigmoid(-u)]

    using d sigmoid(-u)/du = -sigmoid(u) sigmoid(-u) and d softplus(-u)/du = -sigmoid(-u); the
    chain rule's (1 - p_t)^(gamma - 1) has been multiplied through by 1 - p_t, so no factor is
    infinite at p_t = 1 for gamma < 1 (torchvision's NaN), and d loss / dz = (2y - 1) d loss / du.
    """
    neg_sign = torch.lerp(_scalar(1.0, z), _scalar(-1.0, z), y)   # 1 - 2y = -(2y - 1)
    neg_u = z * neg_sign
    one_minus_pt = torch.sigmoid(neg_u)
    bce = F.softplus(neg_u)
    w = torch.lerp(_scalar(a0, z), _scalar(a1, z), y)              # scale * a_t
    if gamma != 0.0:
        w.mul_(_modulating(one_minus_pt, gamma))
    if not need_grad:
        return w, bce, None
    # gamma p_t bce + (1 - p_t), then times -w (2y - 1) = w (1 - 2y)
    if gamma != 0.0:
        grad = torch.addcmul(one_minus_pt, torch.sigmoid(neg_u.neg_()), bce, value=gamma)
    else:
        grad = one_minus_pt
    return w, bce, grad.mul_(w).mul_(neg_sign)


def _binary_focal_soft(z, y, gamma, a0, a1, need_grad):
    """Soft targets y in [0, 1]. With p = sigmoid(z), q = sigmoid(-z) and s = 1 - p_t = y q + (1 - y) p:

        loss = a_t s^gamma bce,    bce = y softplus(-z) + (1 - y) softplus(z)
        d bce / dz = p - y = (1 - y) p - y q
        d s / dz   = (1 - 2y) p q                        (dp/dz = p q, dq/dz = -p q)
        d s^gamma / dz = gamma s^gamma (1 - 2y) r,       r = p q / s
        d loss / dz = a_t s^gamma [gamma (1 - 2y) r bce + (p - y)]

    No step subtracts probabilities: q is sigmoid(-z), not 1 - p, and s, bce and p - y are
    each a lerp between two terms computed without cancellation (torch.lerp returns its end
    exactly at weight 1 and its start at weight 0). The ratio r = p q / s lies in [0, 1] (p at
    y = 1, q at y = 0), so unlike gamma s^(gamma - 1) -- infinite at s = 0 for gamma < 1 --
    every factor is finite. Where s underflows to 0, s^gamma = 0 and the clamp in r only
    avoids 0/0 in a term that s^gamma then multiplies by 0.
    """
    p = torch.sigmoid(z)
    neg_z = torch.neg(z)
    q = torch.sigmoid(neg_z)                       # 1 - p without cancellation
    s = torch.lerp(p, q, y)                        # 1 - p_t = (1 - y) p + y q
    # -log sigmoid(z) = softplus(-z), -log(1 - sigmoid(z)) = softplus(z): BCE from logits
    bce = torch.lerp(F.softplus(z), F.softplus(neg_z), y)
    w = torch.lerp(_scalar(a0, z), _scalar(a1, z), y)          # scale * a_t
    if gamma != 0.0:
        w.mul_(_modulating(s, gamma))
    if not need_grad:
        return w, bce, None
    pq = p * q
    grad = torch.lerp(p, q.neg_(), y)              # p - y = (1 - y) p - y q
    if gamma != 0.0:
        r = pq.div_(s.clamp_min(torch.finfo(s.dtype).tiny)).mul_(bce)   # r * bce
        grad.addcmul_(torch.rsub(y, 1.0, alpha=2.0), r, value=gamma)    # + gamma (1 - 2y) r bce
    return w, bce, grad.mul_(w)


class _BinaryFocalLoss(torch.autograd.Function):
    """Forward computes the loss and its gradient together; backward scales by grad_output.

    The gradient buffer is handed over on the first backward; a second backward through the
    same graph (``retain_graph=True``) recomputes it from the saved inputs. Under
    ``create_graph=True`` backward differentiates the composed form instead, so that double
    backward works (a gradient penalty does not vanish).
    """

    @staticmethod
    def forward(ctx, logits, target, gamma, alpha, reduction, hard):
        ctx.save_for_backward(logits, target)
        ctx.gamma, ctx.alpha, ctx.reduction, ctx.hard = gamma, alpha, reduction, hard
        blocks = C.element_blocks(logits.numel(), logits.device)
        if reduction != "none" and len(blocks) > 1:
            total, grad = _binary_focal_blocked(blocks, *_binary_focal_inputs(ctx, logits, target))
            ctx.grad = None if grad is None else grad.to(logits.dtype)
            return total.to(logits.dtype)
        w, bce, grad = _binary_focal_kernel(*_binary_focal_inputs(ctx, logits, target))
        ctx.grad = None if grad is None else grad.to(logits.dtype)
        if reduction == "none":
            return (w * bce).to(logits.dtype)
        # sum of w * bce without a temporary; w carries 1/n for the mean (0 when n = 0)
        return torch.dot(w.reshape(-1), bce.reshape(-1)).to(logits.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            logits, target = ctx.saved_tensors
            loss = _binary_focal_composed(logits, target, ctx.gamma, ctx.alpha, ctx.reduction)
            (grad,) = torch.autograd.grad(loss, logits, grad_output, create_graph=True)
            return grad, None, None, None, None, None
        grad, ctx.grad = ctx.grad, None
        if grad is None:  # second backward: recompute
            logits, target = ctx.saved_tensors
            grad = _binary_focal_kernel(*_binary_focal_inputs(ctx, logits, target))[2].to(logits.dtype)
        if ctx.reduction == "none" or bool(grad_output != 1):
            grad = grad * grad_output
        return grad, None, None, None, None, None


def _binary_focal_blocked(blocks, z, y, gamma, alpha, scale, need_grad, hard):
    """The reduced loss, sum of w * bce, and the gradient (or None), a block at a time.

    The same kernel on each ``(start, stop)`` block of the flattened batch (C.element_blocks:
    its temporaries stay in cache, where the whole batch's would go to memory and back once
    per elementwise step); only the gradient has the batch's size. The blocks' sums are added
    at the end, so the loss differs from the one-block result by rounding only.
    """
    zf, yf = z.reshape(-1), y.reshape(-1)
    grad = torch.empty(zf.numel(), dtype=z.dtype, device=z.device) if need_grad else None
    parts = torch.empty(len(blocks), dtype=z.dtype, device=z.device)
    for i, (start, stop) in enumerate(blocks):
        w, bce, g = _binary_focal_kernel(zf[start:stop], yf[start:stop], gamma, alpha, scale,
                                         need_grad, hard)
        torch.dot(w, bce, out=parts[i])
        if need_grad:
            grad[start:stop].copy_(g)
    return parts.sum(), None if grad is None else grad.view(z.shape)


def _binary_focal_inputs(ctx, logits, target):
    dtype = C.compute_dtype(logits)
    n = logits.numel()
    ctx.scale = (1.0 / n if n else 0.0) if ctx.reduction == "mean" else 1.0
    return logits.to(dtype), target.to(dtype), ctx.gamma, ctx.alpha, ctx.scale, ctx.needs_input_grad[0], ctx.hard


def binary_focal_loss(logits, target, *, gamma=2.0, alpha=0.25, reduction="mean"):
    r"""Sigmoid focal loss with torchvision's semantics, computed in log space.

    .. math::

        \begin{aligned}
        \ell &= \alpha_t\,(1-p_t)^{\gamma}\,\mathrm{BCE}(z, y),\\
        p_t &= y\,\sigma(z) + (1-y)(1-\sigma(z)),\qquad
        \alpha_t = \alpha y + (1-\alpha)(1-y)
        \end{aligned}

    Equals ``torchvision.ops.sigmoid_focal_loss(logits, target, alpha, gamma, reduction)``
    wherever that is finite, and stays finite where it is not (:math:`\gamma < 1` at saturated
    logits). Soft targets in ``[0, 1]`` are allowed, as in torchvision; note that for a soft
    target :math:`y` this applies one factor :math:`(1-p_t)^\gamma` to the soft-target BCE, which
    is *not* the expected focal loss :math:`y\,\ell(z, 1) + (1-y)\,\ell(z, 0)` (Chapter 2
    compares the two).

    The gradient with respect to ``logits`` is computed in closed form during forward (a
    custom autograd Function, about a third of the elementwise passes of the composed
    formula); hard targets (all 0 or 1) take a shorter signed-logit path. When ``target``
    itself requires grad the loss is composed of differentiable log-space torch ops instead,
    so gradients reach the target too (finite at targets 0 and 1). Double backward works: under
    ``create_graph=True`` the backward differentiates that composed form.

    Args:
        logits: floating tensor of any shape; half precision is computed in float32. Logits
            must be finite (an infinite logit can give NaN); they are not checked.
        target: floating tensor of the same shape with entries in ``[0, 1]`` (NaN rejected).
        gamma: focusing parameter :math:`\gamma \ge 0`, finite.
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
    C.check_unit_interval(target, "target")  # one pass; NaN rejected
    if alpha is not None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise TypeError(f"alpha must be a number or None, got {type(alpha).__name__}")
        if alpha != alpha or alpha in (float("inf"), float("-inf")):
            raise ValueError(f"alpha must be finite (a number in [0, 1], or None), got {alpha}")
        if alpha > 1:
            raise ValueError(f"alpha must lie in [0, 1] (or be None / negative for no balancing), got {alpha}")
        if alpha < 0:
            alpha = None
        else:
            alpha = float(alpha)
    if target.requires_grad and torch.is_grad_enabled():
        return _binary_focal_composed(logits, target, g, alpha, reduction)
    # hard targets (all 0 or 1) take the shorter signed-logit path; the result is the same
    hard = bool(torch.equal(target, torch.round(target))) if target.numel() else True
    return _BinaryFocalLoss.apply(logits, target, g, alpha, reduction, hard)


def _safe_power(s, gamma):
    """s^gamma for s in [0, 1] with finite derivatives of every order at s = 0.

    exp(gamma log s) where s > 0 and 0 where s = 0 (an underflow of a positive number), with a
    double where so that neither log 0 nor s^(gamma - 1) enters a gradient.
    """
    if gamma == 0.0:
        return torch.ones_like(s)
    positive = s > 0
    safe = torch.where(positive, s, torch.ones_like(s))
    return torch.where(positive, torch.exp(gamma * torch.log(safe)), torch.zeros_like(s))


def _binary_focal_composed(logits, target, gamma, alpha, reduction):
    """The same loss composed of differentiable torch ops: gradients with respect to ``target``
    and double backward.

    1 - p_t = y sigmoid(-z) + (1 - y) sigmoid(z) and BCE are lerps in y between terms computed
    from the logit, so the derivative with respect to y is finite at y = 0 and y = 1 (a
    log y inside a log-add-exp would give 0 * inf there).
    """
    dtype = C.compute_dtype(logits)
    z, y = logits.to(dtype), target.to(dtype)
    s = torch.lerp(torch.sigmoid(z), torch.sigmoid(-z), y)           # 1 - p_t
    bce = torch.lerp(F.softplus(z), F.softplus(-z), y)
    loss = _safe_power(s, gamma) * bce
    if alpha is not None:
        loss = torch.lerp(torch.full_like(y, 1.0 - alpha), torch.full_like(y, alpha), y) * loss
    return C.reduce(loss, reduction).to(logits.dtype)
