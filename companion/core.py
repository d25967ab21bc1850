"""Cross-entropy, binary cross-entropy and the divergences they are built from.

The book's Chapter 1 derives these; every later chapter calls them.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import _checks as C

__all__ = ["cross_entropy", "binary_cross_entropy", "entropy", "kl_divergence", "js_divergence"]


#: Hard-target batches with fewer logits than this, nothing ignored and no gradient wanted
#: for ``weight``, go to ``F.cross_entropy``: an autograd Function costs some 50 us of Python
#: per forward and backward, more than its closed form saves below about a million logits
#: (measured on 2 CPU cores; tests set it to 0 so that the closed forms stay under test).
_SMALL_BATCH = 1 << 20


def cross_entropy(logits, target, *, weight=None, label_smoothing=0.0, ignore_index=-100,
                  reduction="mean"):
    r"""Softmax cross-entropy with the class axis last.

    .. math::

        \ell_n = -\sum_{k=1}^{K} w_k\, t_{nk} \log \operatorname{softmax}(z_n)_k,
        \qquad t_n = (1-\varepsilon)\, y_n + \tfrac{\varepsilon}{K}\mathbf{1}

    where :math:`y_n` is the one-hot (hard) or probability (soft) target, :math:`w` the class
    weights and :math:`\varepsilon` the label smoothing. For hard targets this equals
    ``torch.nn.functional.cross_entropy(logits.movedim(-1, 1), target, ...)`` in value and
    gradient, for every ``weight``, ``label_smoothing``, ``ignore_index`` and ``reduction``;
    a hard-target batch of fewer than :math:`2^{20}` logits in which no target is ignored is
    in fact handed to it (faster at that size), and larger ones go to closed-form autograd
    Functions that need one buffer of the logits' size.

    Reduction semantics (PyTorch's):

    * hard targets, ``"mean"``: :math:`\sum_n \ell_n / \sum_n w_{y_n}` over the examples that
      are not ignored (the unweighted mean when ``weight`` is ``None``);
    * soft targets, ``"mean"``: :math:`\sum_n \ell_n / N` -- the class weights enter each
      :math:`\ell_n` but **not** the divisor, because a soft target has no single class whose
      weight could be counted. This is where the two target kinds differ.
    * One difference from PyTorch: when every target is ``ignore_index`` the mean is ``0`` with
      zero gradient, where PyTorch returns ``nan``.

    Args:
        logits: ``(..., K)`` unnormalised scores, any floating dtype. Half precision is
            computed in float32 and returned in the input's dtype. A logit may be ``-inf``
            (a masked class): a class with zero target mass then contributes 0 (0 log 0 = 0),
            one with positive mass (including the :math:`\varepsilon/K` of label smoothing)
            makes the loss ``+inf``. ``+inf`` or NaN logits give NaN; they are not checked.
        target: ``(...)`` integer class indices (hard) or ``(..., K)`` probabilities (soft,
            entries in ``[0, 1]``, finite).
        weight: optional ``(K,)`` finite non-negative class weights.
        label_smoothing: :math:`\varepsilon \in [0, 1]`, mixing the target with the uniform
            distribution.
        ignore_index: hard-target value that contributes neither to the loss nor to the mean's
            divisor. Unused for soft targets.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; the ``(...)`` per-example losses for ``"none"``
        (0 at ignored positions).

    Raises:
        TypeError: ``logits`` is not a floating tensor, or ``target`` is neither integer nor
            floating.
        ValueError: shapes disagree, a class index is out of range, a soft target leaves
            ``[0, 1]`` or holds NaN, ``weight`` is not ``(K,)`` or holds a negative, NaN or
            infinite entry, ``label_smoothing`` lies outside ``[0, 1]``, or ``reduction`` is
            unknown.

    Example:
        >>> import torch
        >>> from companion import cross_entropy
        >>> logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
        >>> round(cross_entropy(logits, torch.tensor([0, 2])).item(), 4)
        0.6342
        >>> loss = cross_entropy(logits, torch.tensor([0, 2]), label_smoothing=0.1)
        >>> round(loss.item(), 4)
        0.7176

    References:
        Szegedy et al. (2016), *Rethinking the Inception architecture*, for label smoothing,
        https://arxiv.org/abs/1512.00567.

    See also:
        Chapter 1 (weighted cross-entropy) and Chapter 3 (label smoothing).
    """
    C.check_logits(logits)
    C.check_reduction(reduction)
    eps = C.check_nonnegative_number(label_smoothing, "label_smoothing", upper=1.0)
    k = logits.shape[-1]
    C.check_class_weight(weight, k, like=logits)
    C.check_tensor(target, "target")
    out_dtype = logits.dtype
    z = logits.to(C.compute_dtype(logits))
    w = None if weight is None else weight.to(z.dtype)

    if target.is_floating_point():
        C.check_soft_target(logits, target)
        t = target.to(z.dtype)
        if eps:
            t = t * (1.0 - eps) + eps / k
        c = t if w is None else t * w
        if c.requires_grad and torch.is_grad_enabled():
            # gradients reach the target or the weights through the composed form
            return _soft_cross_entropy(F.log_softmax(z, dim=-1), c, reduction).to(out_dtype)
        return _SoftCrossEntropy.apply(z, c, reduction).to(out_dtype)

    bounds = C.hard_target_bounds(logits, target, ignore_index=ignore_index)
    nothing_ignored = bounds is not None and not bounds[0] <= ignore_index <= bounds[1]
    if nothing_ignored and z.numel() < _SMALL_BATCH and (w is None or not w.requires_grad):
        return _torch_cross_entropy(z, target, w, eps, reduction).to(out_dtype)
    if w is None and not eps and nothing_ignored:
        # the common case, nothing ignored, unweighted, unsmoothed: fewer, larger operations
        return _PlainCrossEntropy.apply(z, target, reduction).to(out_dtype)
    log_p = F.log_softmax(z, dim=-1)
    valid = target != ignore_index
    safe = torch.where(valid, target, torch.zeros_like(target)).long()
    if w is not None and w.requires_grad:  # the closed-form backward has no gradient for weight
        return _hard_cross_entropy(log_p, safe, valid, w, eps, reduction).to(out_dtype)
    return _HardCrossEntropy.apply(z, log_p.detach(), safe, valid, w, eps, reduction).to(out_dtype)


def _torch_cross_entropy(z, target, w, eps, reduction):
    """A small batch (under ``_SMALL_BATCH`` logits, nothing ignored): PyTorch's fused kernel,
    the same value and gradient, where the autograd Functions below would spend more in
    Python than they save. ``z`` (..., K) in the compute dtype, the class axis last."""
    loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), target.reshape(-1).long(), weight=w,
                           label_smoothing=eps, reduction=reduction)
    return loss.reshape(target.shape) if reduction == "none" else loss


def _plain_cross_entropy(z, target, reduction):
    """Hard-target cross-entropy for callers whose targets are valid by construction (every
    one counted, none out of range) and who checked the rest: no weights, no smoothing, ``z``
    in the compute dtype. The paths of :func:`cross_entropy`, without its checks."""
    if z.numel() < _SMALL_BATCH:
        return _torch_cross_entropy(z, target, None, 0.0, reduction)
    return _PlainCrossEntropy.apply(z, target, reduction)


def _exp_(x):
    """``exp(x)`` in place, taken as ``exp2(x log2(e))``: PyTorch's ``exp2`` on the CPU costs
    about half its ``exp``, even with the scaling pass. The rounding of the product (and of
    ``log2(e)`` itself) adds a relative error of up to ``|x| * 8e-8`` in float32, so for
    ``x = log p <= 0`` it adds at most 3e-8 to the absolute error of ``p``
    (``|x| e^x <= 1/e``), and ``p`` stays within 6e-8 (an ulp of numbers just under 1). On
    the CPU a contiguous ``x`` is done block by block (C.element_blocks), both passes while
    the block is in cache."""
    if x.device.type != "cpu" or not x.is_contiguous():
        return x.exp_()
    flat = x.view(-1)
    for start, stop in C.element_blocks(flat.numel(), x.device):
        flat[start:stop].mul_(C.LOG2E).exp2_()
    return x


def _masked_log_p(log_p, coef):
    """``log_p`` with 0 where its coefficient is 0 and it is -inf: 0 log 0 = 0 for masked classes.

    Only those entries change, so the gradient with respect to a coefficient that is 0 at a
    finite log-probability (a soft target that requires grad) is kept.
    """
    return torch.where((coef == 0) & torch.isneginf(log_p), torch.zeros_like(log_p), log_p)


def _soft_cross_entropy(log_p, c, reduction):
    """Soft-target cross-entropy -sum_k c_k log p_k, composed of differentiable torch ops."""
    return C.reduce(-(c * _masked_log_p(log_p, c)).sum(-1), reduction)


def _take_kept(ctx, recompute):
    """What forward kept on ``ctx.kept`` for backward to write the gradient over, taken once.

    Kept on ``ctx`` rather than saved, since it is neither an input nor an output and backward
    overwrites it: memory already in use, where a fresh buffer of the logits' size costs a
    page fault per 4 KiB. A second backward through a retained graph finds it gone and gets
    ``recompute()`` instead.
    """
    kept, ctx.kept = ctx.kept, None
    return recompute() if kept is None else kept


class _SoftCrossEntropy(torch.autograd.Function):
    """Soft-target cross-entropy with the closed-form gradient (sum_k c_k) p - c.

    The loss of row n is l_n = -sum_k c_nk log p_nk (c: the smoothed and weighted target,
    p = softmax(z / T), T = 1 unless given), so d l_n / d z_n = ((sum_k c_nk) p_n - c_n) / T.
    Forward keeps log p and takes each row's sum as a dot product, backward overwrites it
    with exp(log p) and finishes the gradient in place: one buffer of the logits' size in
    all, where the composed form makes several. A row holding 0 * log 0 (a class with
    no target mass and a -inf logit) comes out of the dot product as NaN and is redone with
    the convention 0 log 0 = 0. Under ``create_graph=True`` backward differentiates the
    composed form instead.
    """

    @staticmethod
    def forward(ctx, z, c, reduction, temperature=1.0):
        log_p = F.log_softmax(z if temperature == 1.0 else z / temperature, dim=-1)
        loss = _dot(c, log_p, -1).neg_()
        redo = torch.isnan(loss)
        if bool(redo.any()):
            loss[redo] = -(c[redo] * _masked_log_p(log_p[redo], c[redo])).sum(-1)
        ctx.save_for_backward(z, c)
        ctx.kept = log_p         # see _take_kept
        ctx.reduction, ctx.temperature = reduction, temperature
        return C.reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        z, c = ctx.saved_tensors
        reduction, temperature = ctx.reduction, ctx.temperature
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            log_q = F.log_softmax(z if temperature == 1.0 else z / temperature, dim=-1)
            loss = _soft_cross_entropy(log_q, c, reduction)
            (grad,) = torch.autograd.grad(loss, z, grad_output, create_graph=True)
            return grad, None, None, None
        log_p = _take_kept(ctx, lambda: F.log_softmax(
            z if temperature == 1.0 else z / temperature, dim=-1))
        rows = log_p.shape[:-1]
        g = grad_output if temperature == 1.0 else grad_output / temperature
        if reduction == "mean":
            n = math.prod(rows)
            g = g / n if n else torch.zeros_like(g)
        g = g.expand(rows).unsqueeze(-1)
        grad = _exp_(log_p)                                       # p
        grad.mul_(c.sum(-1, keepdim=True).mul_(g))                # (sum_k c_k) p, times g
        grad.addcmul_(c, g, value=-1.0)                           # minus g c
        return grad, None, None, None


def _hard_cross_entropy(log_p, safe, valid, w, eps, reduction):
    """Hard-target cross-entropy from log-probabilities, composed of differentiable torch ops."""
    k = log_p.shape[-1]
    nll = -log_p.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    w_y = torch.ones_like(nll) if w is None else w[safe]
    loss = w_y * nll
    if eps:
        # the uniform part of the smoothed target: eps/K * sum_k w_k (-log p_k)
        smooth = -(log_p.sum(-1) if w is None else _masked_log_p(log_p, w) @ w)
        loss = (1.0 - eps) * loss + (eps / k) * smooth
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    denominator = torch.where(valid, w_y, torch.zeros_like(w_y)).sum()
    return C.reduce(loss, reduction, denominator)


class _HardCrossEntropy(torch.autograd.Function):
    """Hard-target cross-entropy with its gradient in closed form (one pass over the logits).

    The loss of row n is l_n = -sum_k w_k t_nk log p_nk with t_n = (1 - eps) e_y + (eps/K) 1,
    and since sum_k p_nk = 1,

        d l_n / d z_n = c_n p_n - (1 - eps) w_y e_y - (eps/K) w,
        c_n = sum_k w_k t_nk = (1 - eps) w_y + (eps/K) sum_k w_k,

    so backward forms exp(log p) scaled by each row's weight and subtracts the target's terms
    in place, instead of building the gradient of log p and running log-softmax's backward.
    Under ``create_graph=True`` backward differentiates the composed form instead, so that
    higher derivatives stay available.
    """

    @staticmethod
    def forward(ctx, z, log_p, safe, valid, w, eps, reduction):
        ctx.save_for_backward(z, log_p, safe, valid, w)
        ctx.eps, ctx.reduction = eps, reduction
        return _hard_cross_entropy(log_p, safe, valid, w, eps, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        z, log_p, safe, valid, w = ctx.saved_tensors
        eps, reduction, k = ctx.eps, ctx.reduction, z.shape[-1]
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            loss = _hard_cross_entropy(F.log_softmax(z, dim=-1), safe, valid, w, eps, reduction)
            # the first derivative, built so that it is differentiable with respect to z
            (grad,) = torch.autograd.grad(loss, z, grad_output, create_graph=True)
            return grad, None, None, None, None, None, None
        w_y = torch.ones(safe.shape, dtype=z.dtype, device=z.device) if w is None else w[safe]
        # each row's share of grad_output: 1 / sum of counted weights for the mean, 0 if ignored
        g = grad_output.expand(valid.shape) if reduction == "none" else grad_output
        if reduction == "mean":
            den = torch.where(valid, w_y, torch.zeros_like(w_y)).sum()
            g = torch.where(den > 0, g / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(g))
        g = torch.where(valid, g.expand(valid.shape), torch.zeros_like(w_y))
        c = (1.0 - eps) * w_y + (eps / k) * (k if w is None else w.sum())
        grad = _exp_(log_p.clone())                               # p
        if eps and w is None:
            # g c p - g eps/K in one pass, written over p
            torch.addcmul((-(eps / k) * g).unsqueeze(-1), grad, (g * c).unsqueeze(-1), out=grad)
        else:
            grad.mul_((g * c).unsqueeze(-1))
            if eps:
                # - g_n (eps/K) w_k: an outer product added in place
                grad.view(-1, k).addr_(g.reshape(-1), w, alpha=-(eps / k))
        # - g_n (1 - eps) w_y at the target class
        grad.scatter_add_(-1, safe.unsqueeze(-1), (-(1.0 - eps) * g * w_y).unsqueeze(-1))
        return grad, None, None, None, None, None, None


class _PlainCrossEntropy(torch.autograd.Function):
    """Hard-target cross-entropy with every target counted, no class weights, no smoothing.

    The case of :class:`_HardCrossEntropy` with ``w = None``, ``eps = 0`` and every row
    valid, where the loss of row n is -log p_{n, y_n} and its gradient p_n - e_{y_n}:
    forward is a log-softmax and a gather, backward an exp, one scaling and a scatter. On
    small batches, where each operation's fixed cost dominates, this is about half the
    operations of the general path. Double backward differentiates the composed form.
    """

    @staticmethod
    def forward(ctx, z, target, reduction):
        log_p = F.log_softmax(z, dim=-1)
        t = target.long().unsqueeze(-1)
        nll = log_p.gather(-1, t).squeeze(-1).neg_()
        ctx.save_for_backward(z, t)
        ctx.kept = log_p         # see _take_kept
        ctx.reduction = reduction
        if reduction == "none":
            return nll
        return nll.sum() if reduction == "sum" else nll.mean()

    @staticmethod
    def backward(ctx, grad_output):
        z, t = ctx.saved_tensors
        reduction = ctx.reduction
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            safe = t.squeeze(-1)
            valid = torch.ones_like(safe, dtype=torch.bool)
            loss = _hard_cross_entropy(F.log_softmax(z, dim=-1), safe, valid, None, 0.0,
                                       reduction)
            (grad,) = torch.autograd.grad(loss, z, grad_output, create_graph=True)
            return grad, None, None
        log_p = _take_kept(ctx, lambda: F.log_softmax(z, dim=-1))
        g = grad_output.to(log_p.dtype)
        if reduction == "mean":
            g = g / t.numel()
        g = g.unsqueeze(-1)                                       # (..., 1) or (1,) for a scalar
        grad = _exp_(log_p).mul_(g)                               # g p
        grad.scatter_add_(-1, t, g.neg().expand(t.shape))         # minus g at the target
        return grad, None, None


def binary_cross_entropy(logits, target, *, pos_weight=None, weight=None, mask=None,
                         reduction="mean"):
    r"""Binary cross-entropy from logits, for hard or soft targets in ``[0, 1]``.

    .. math::

        \begin{aligned}
        \ell &= w\,\bigl[-\beta\, y \log\sigma(z) - (1-y)\log(1-\sigma(z))\bigr]\\
             &= w\,\bigl[\beta\, y\,\operatorname{softplus}(-z)
                 + (1-y)\operatorname{softplus}(z)\bigr]
        \end{aligned}

    With ``mask=None`` this equals
    ``torch.nn.functional.binary_cross_entropy_with_logits(logits, target, weight, pos_weight=pos_weight)``
    in value and gradient. Its gradient with respect to the logit is
    :math:`w\,[(1 + (\beta-1) y)\sigma(z) - \beta y]`, which is :math:`w(\sigma(z) - y)` when
    :math:`\beta = 1`, soft targets included.

    Reduction semantics: as in PyTorch, ``weight`` rescales each term and ``"mean"`` divides by
    the number of counted elements (not by the sum of ``weight``); with a ``mask`` only the
    observed elements are counted, in the sum and in the divisor. An all-masked batch gives 0
    with zero gradient.

    Soft targets are exact at extreme logits: the loss is a lerp between
    :math:`\operatorname{softplus}(z)` and :math:`\beta\operatorname{softplus}(-z)`, never a
    difference of large terms (PyTorch's formula loses digits for, e.g., :math:`z = -10^4`,
    :math:`y = 10^{-6}` in float32). The gradient with respect to the logit is computed in closed
    form; gradients reach ``target``, ``weight`` and ``pos_weight`` too when they require grad,
    and double backward works.

    Args:
        logits: ``(...)`` logits, any floating dtype (half precision computed in float32).
            They must be finite: an infinite logit can give NaN (``0 * inf``); they are not
            checked.
        target: floating tensor of the same shape, entries in ``[0, 1]`` (NaN rejected).
        pos_weight: optional :math:`\beta \ge 0`, finite, broadcast over the last axis
            (typically ``(K,)``): the weight of the positive term.
        weight: optional finite rescaling weight that broadcasts to the shape of ``logits``.
        mask: optional boolean tensor of the same shape; ``False`` marks unobserved labels.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (0 at masked positions).

    Returns:
        A scalar, or the elementwise losses with the shape of ``logits``. An empty batch gives
        a mean of 0.

    Raises:
        TypeError: a tensor argument has the wrong type or dtype.
        ValueError: shapes disagree, targets leave ``[0, 1]`` or hold NaN, ``pos_weight`` is
            negative, NaN or infinite, or ``weight`` is NaN or infinite.

    Example:
        >>> import torch
        >>> from companion import binary_cross_entropy
        >>> z = torch.tensor([2.0, -1.0, 0.5])
        >>> y = torch.tensor([1.0, 0.0, 0.3])
        >>> round(binary_cross_entropy(z, y).item(), 4)
        0.4214
        >>> round(binary_cross_entropy(z, y, pos_weight=torch.tensor(4.0)).item(), 4)
        0.6906

    See also:
        Chapter 1 (the weight :math:`\beta` on rare positives), Chapter 3 (soft targets) and
        Chapter 6 (multi-label classification).
    """
    C.check_floating(logits, "logits")
    C.check_reduction(reduction)
    _check_bce_args(logits, target, pos_weight, weight, mask)
    return _binary_cross_entropy(logits, target, pos_weight, weight, mask, reduction)


def _binary_cross_entropy(logits, target, pos_weight, weight, mask, reduction):
    """binary_cross_entropy after its checks (_check_bce_args), for callers that made them."""
    dtype = C.compute_dtype(logits)
    z, y = logits.to(dtype), target.to(dtype)
    pw = None if pos_weight is None else pos_weight.to(dtype)
    w = None if weight is None else weight.to(dtype)
    if any(t is not None and t.requires_grad for t in (y, pw, w)) and torch.is_grad_enabled():
        # gradients reach the target and the weights through the composed form
        return _bce_reduced(z, y, pw, w, mask, reduction).to(logits.dtype)
    return _BinaryCrossEntropy.apply(z, y, pw, w, mask, reduction).to(logits.dtype)


def _check_bce_args(logits, target, pos_weight, weight, mask, *, target_name="target"):
    """The checks of binary_cross_entropy, with the target's name of the calling function."""
    C.check_floating(target, target_name)
    C.check_same_shape("logits", logits, target_name, target)
    C.check_same_device("logits", logits, target_name, target)
    C.check_unit_interval(target, target_name)
    for name, extra in (("pos_weight", pos_weight), ("weight", weight)):
        if extra is not None:
            C.check_floating(extra, name)
            C.check_same_device("logits", logits, name, extra)
            C.check_broadcastable_to(extra, logits.shape, name)
    if pos_weight is not None:
        C.check_nonnegative_tensor(pos_weight, "pos_weight")
    if weight is not None:
        C.check_finite(weight, "weight")
    if mask is not None:
        C.check_mask(mask, logits)


def _bce_elementwise(z, y, pw, w):
    """w [beta y softplus(-z) + (1 - y) softplus(z)] as one lerp between the two softplus terms.

    Both terms are non-negative and computed from the logit (softplus(-z) = -log sigma(z)), and
    torch.lerp returns its end exactly at weight 1 and works from the nearer end otherwise, so
    no step subtracts two large numbers: PyTorch's (1 - y) z + softplus(-z) cancels when the
    logit is large and the target is close to the logit's side (z = -1e4, y = 1e-6 keeps two
    digits in float32; this form keeps all of them).
    """
    neg = F.softplus(-z)
    if pw is not None:
        neg = neg * pw
    loss = torch.lerp(F.softplus(z), neg, y)
    return loss if w is None else loss * w


def _bce_denominator(z, mask):
    if mask is None:
        return torch.tensor(float(z.numel()), dtype=z.dtype, device=z.device)
    return mask.sum().to(z.dtype)


def _bce_reduced(z, y, pw, w, mask, reduction):
    loss = _bce_elementwise(z, y, pw, w)
    if mask is None:
        return C.reduce(loss, reduction)
    loss = torch.where(mask, loss, torch.zeros_like(loss))
    return C.reduce(loss, reduction, _bce_denominator(z, mask))


def _bce_elementwise_fast(z, y, pw, w):
    """The value of _bce_elementwise with one sigmoid and one log1p per element (no autograd).

    softplus(z) = a + relu(z) and softplus(-z) = a + relu(-z) share a = log1p(exp(-|z|)), so
    only a is transcendental; it is taken as -log1p(-sigmoid(-|z|)), as in _bce_negated_block
    (PyTorch's sigmoid is faster than its exp on the CPU). Without a pos_weight the loss is
    a + lerp(relu(z), relu(-z), y): the lerp works from its nearer end, so the
    cancellation-free property of _bce_elementwise is kept (at z >= 0 and y near 1 it computes
    0 + (1 - y) z, and 1 - y is exact there).
    Not for differentiation: |z| and relu have a kink at 0 whose one-sided derivatives torch
    does not add up, so backward uses the closed form and double backward the composed form.
    Used with weights or a mask; the plain loss goes block by block (_bce_negated_block).
    """
    pos = torch.relu(z)
    neg = torch.sub(pos, z)
    # neg is relu(-z), exactly: z - z = 0 for z >= 0, 0 - z for z < 0
    # minus_a = log1p(-sigmoid(-|z|)) = -log1p(exp(-|z|)) = -a
    if pw is None:
        pos.lerp_(neg, y)
        minus_a = torch.abs(z, out=neg).neg_().sigmoid_().neg_().log1p_()
        loss = pos.sub_(minus_a)
    else:
        minus_a = torch.abs(z).neg_().sigmoid_().neg_().log1p_()
        loss = pos.sub_(minus_a).lerp_(neg.sub_(minus_a).mul_(pw), y)
    return loss if w is None else loss.mul_(w)


def _bce_negated_block(z, y, c, t):
    """Minus the loss of one block, written into ``t``; ``c`` is a work buffer of the same size.

    Without weights the loss is (step(z) - y) z - log sigmoid(|z|), step(z) = 1 for z >= 0 and
    0 otherwise: both terms are non-negative, so nothing cancels, and each is exact to a few
    ulps however large the logit is and however close the target is to the logit's side
    ((1 - y) z at z >= 0 with 1 - y exact for y >= 1/2, y |z| at z < 0).

    log sigmoid(|z|) is log1p(-s) with s = sigmoid(-|z|) in [0, 1/2]: log1p of a number that
    is exact to a few ulps, so it is as exact as log1p(exp(-|z|)), and PyTorch's sigmoid on the
    CPU takes half the time of its exp (log_sigmoid itself costs exp plus log1p and writes a
    second buffer for its backward). Where exp(|z|) overflows (|z| > 88.7 in float32), s and
    the term are 0 instead of a subnormal number below 3e-39.

    This computes c = y - step(z), then t = log1p(-sigmoid(-|z|)) + c z = -loss: eight calls,
    two of them transcendental.
    """
    torch.sub(y, torch.ge(z, 0, out=c), out=c)
    torch.abs(z, out=t).neg_()
    torch.log1p(torch.sigmoid(t, out=t).neg_(), out=t)
    return t.addcmul_(c, z)


def _bce_plain_forward(z, y, reduction):
    """Binary cross-entropy without weights or a mask, block by block (C.element_blocks)."""
    zf, yf = z.reshape(-1), y.reshape(-1)
    blocks = C.element_blocks(zf.numel(), zf.device)
    rows = blocks[0][1] if blocks else 0
    work = torch.empty(rows, dtype=z.dtype, device=z.device)
    if reduction == "none":
        out = torch.empty_like(zf)
        for start, stop in blocks:
            _bce_negated_block(zf[start:stop], yf[start:stop], work[:stop - start],
                               out[start:stop]).neg_().add_(0.0)  # no -0 where the loss is 0
        return out.view(z.shape)
    part = torch.empty_like(work)
    sums = torch.empty(len(blocks), dtype=z.dtype, device=z.device)
    for i, (start, stop) in enumerate(blocks):
        m = stop - start
        torch.sum(_bce_negated_block(zf[start:stop], yf[start:stop], work[:m], part[:m]),
                  dim=0, out=sums[i])
    sums.neg_()
    return C.reduce(sums, "sum") if reduction == "sum" else C.reduce(
        sums, "mean", torch.tensor(float(zf.numel()), dtype=z.dtype, device=z.device))


def _bce_plain_backward(z, y, grad_output, reduction):
    """Closed-form gradient sigma(z) - y, times the reduction's scale, block by block."""
    grad = torch.empty(z.shape, dtype=z.dtype, device=z.device)
    gf, zf, yf = grad.view(-1), z.reshape(-1), y.reshape(-1)
    if reduction == "none":
        scale = grad_output.reshape(-1)
    elif reduction == "mean":
        scale = grad_output / zf.numel() if zf.numel() else grad_output
    else:
        scale = grad_output
    for start, stop in C.element_blocks(zf.numel(), zf.device):
        g = torch.sigmoid(zf[start:stop], out=gf[start:stop]).sub_(yf[start:stop])
        g.mul_(scale[start:stop] if reduction == "none" else scale)
    return grad


class _BinaryCrossEntropy(torch.autograd.Function):
    """Binary cross-entropy with the closed-form gradient w [(1 + (beta - 1) y) sigma(z) - beta y].

    For beta = 1 the gradient is w (sigma(z) - y); with a pos_weight it is written as the lerp
    (1 - y) sigma(z) - y beta sigma(-z). Under ``create_graph=True`` backward differentiates the
    composed form instead, so that higher derivatives stay available. Without weights and a
    mask, forward and backward run block by block (_bce_plain_forward, _bce_plain_backward).
    """

    @staticmethod
    def forward(ctx, z, y, pw, w, mask, reduction):
        ctx.save_for_backward(z, y, pw, w, mask)
        ctx.reduction = reduction
        if pw is None and w is None and mask is None:
            return _bce_plain_forward(z, y, reduction)
        loss = _bce_elementwise_fast(z, y, pw, w)
        if mask is None:
            return C.reduce(loss, reduction)
        loss = torch.where(mask, loss, torch.zeros_like(loss))
        return C.reduce(loss, reduction, _bce_denominator(z, mask))

    @staticmethod
    def backward(ctx, grad_output):
        z, y, pw, w, mask = ctx.saved_tensors
        reduction = ctx.reduction
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            loss = _bce_reduced(z, y, pw, w, mask, reduction)
            (grad,) = torch.autograd.grad(loss, z, grad_output, create_graph=True)
            return grad, None, None, None, None, None
        if pw is None and w is None and mask is None:
            return _bce_plain_backward(z, y, grad_output, reduction), None, None, None, None, None
        if pw is None:
            grad = torch.sigmoid(z).sub_(y)
        else:
            grad = torch.lerp(torch.sigmoid(z), torch.sigmoid(-z).mul_(pw).neg_(), y)
        if w is not None:
            grad = grad.mul_(w)  # w broadcasts to the logits' shape (checked)
        if mask is not None:
            grad = torch.where(mask, grad, torch.zeros_like(grad))
        if reduction == "mean":
            den = _bce_denominator(z, mask)
            scale = torch.where(den > 0, grad_output / torch.where(den > 0, den, torch.ones_like(den)),
                                torch.zeros_like(grad_output))
            grad = grad.mul_(scale)
        elif reduction == "sum" and bool(grad_output != 1):
            grad = grad.mul_(grad_output)
        elif reduction == "none":
            grad = grad.mul_(grad_output)
        return grad, None, None, None, None, None


def entropy(probs, dim=-1):
    r"""Shannon entropy in nats, :math:`H(p) = -\sum_k p_k \log p_k`, with :math:`0 \log 0 = 0`.

    The gradient is :math:`-(\log p_k + 1)`. At :math:`p_k = 0`, where that is
    :math:`+\infty`, it is taken at the smallest normal number instead (86.3 in float32,
    707.4 in float64), so that it stays finite: a softmax upstream then passes the gradient
    0 to that class, its limit, rather than NaN.

    Args:
        probs: floating tensor of probabilities (finite and non-negative; rows need not sum
            to one, so that sub-distributions can be scored).
        dim: the axis that holds the distribution.

    Returns:
        ``probs`` with ``dim`` reduced away.

    Raises:
        TypeError: ``probs`` is not a floating tensor, or ``dim`` is not an int.
        ValueError: an entry of ``probs`` is negative, NaN or infinite.

    Example:
        >>> import torch
        >>> from companion import entropy
        >>> round(entropy(torch.tensor([0.5, 0.5, 0.0])).item(), 6)  # log 2
        0.693147

    See also:
        Chapter 3 (the optimum of a smoothed loss is an entropy).
    """
    C.check_floating(probs, "probs")
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int (the axis of the distribution), got {dim!r}")
    p = probs.to(C.compute_dtype(probs))
    p = (p.reshape(1) if p.dim() == 0 else p).movedim(dim, -1)
    k = p.shape[-1]
    flat = p.reshape(math.prod(p.shape[:-1]), k)
    if torch.is_grad_enabled() and flat.requires_grad:
        h = _Entropy.apply(flat)
    else:
        h = _entropy_rows(flat)
    # a negative (p log p is NaN), NaN or infinite entry leaves its sum NaN or infinite, so
    # the entries are checked only where the (smaller) result is not finite: to name the
    # entry, or to let a finite input whose sum overflows through
    if h.numel() and not bool(torch.isfinite(h.detach()).all()):
        C.check_nonnegative_tensor(probs, "probs")
    return h.reshape(p.shape[:-1]).to(probs.dtype)


def _entropy_rows(p):
    """``-sum_k xlogy(p, p)`` of each row of ``p`` (n, K), a block of rows at a time
    (C.row_sums): no (n, K) temporary."""
    h = C.row_sums(p, lambda lo, hi, buf: torch.special.xlogy(p[lo:hi], p[lo:hi], out=buf))
    return h.neg_().add_(0.0)  # no -0


class _Entropy(torch.autograd.Function):
    """Rows' entropies with the closed-form gradient ``-(log max(p, tiny) + 1)``; double
    backward differentiates that expression, built from differentiable operations."""

    @staticmethod
    def forward(ctx, p):
        ctx.save_for_backward(p)
        return _entropy_rows(p)

    @staticmethod
    def backward(ctx, grad_output):
        (p,) = ctx.saved_tensors
        tiny = torch.finfo(p.dtype).tiny
        g = grad_output.unsqueeze(-1)
        if torch.is_grad_enabled():  # create_graph: the same expression, out of place
            return -(torch.log(p.clamp_min(tiny)) + 1) * g
        n, k = p.shape
        grad = torch.empty((n, k), dtype=p.dtype, device=p.device)
        for lo, hi in C.row_blocks(n, k, p.device):
            b = torch.clamp_min(p[lo:hi], tiny, out=grad[lo:hi]).log_().add_(1.0)
            b.mul_(g[lo:hi].neg())
        return grad


def _pair(p_logits, q_logits):
    C.check_logits(p_logits, "p_logits")
    C.check_logits(q_logits, "q_logits")
    C.check_same_shape("p_logits", p_logits, "q_logits", q_logits)
    C.check_same_device("p_logits", p_logits, "q_logits", q_logits)
    dtype = torch.promote_types(C.compute_dtype(p_logits), C.compute_dtype(q_logits))
    return p_logits.to(dtype), q_logits.to(dtype), torch.promote_types(p_logits.dtype, q_logits.dtype)


def kl_divergence(p_logits, q_logits, dim=-1):
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(p\,\|\,q)` between two softmax distributions.

    .. math::

        \mathrm{KL}(p\,\|\,q) = \sum_k p_k (\log p_k - \log q_k),\qquad
        p = \operatorname{softmax}(z^p),\; q = \operatorname{softmax}(z^q)

    computed from log-softmax values, so that it is finite for any finite logits.

    A logit may be ``-inf`` (a masked class): a class with :math:`p_k = 0` contributes 0
    (:math:`0 \log 0 = 0`), also where :math:`q_k = 0`; a class with :math:`p_k > 0` and
    :math:`q_k = 0` makes the divergence ``+inf``. ``+inf`` or NaN logits give NaN.

    Args:
        p_logits, q_logits: logits of the same shape.
        dim: the class axis.

    Returns:
        The divergence in nats, with ``dim`` reduced away.

    Example:
        >>> import torch
        >>> from companion import kl_divergence
        >>> z = torch.tensor([1.0, 2.0, 3.0])
        >>> kl_divergence(z, z).item()
        0.0

    See also:
        Chapter 11 (distillation) and Chapter 16 (the cost of coding with the wrong model).
    """
    return _divergence(_KLDivergence, _kl_parts, p_logits, q_logits, dim)


def _divergence(function, parts, p_logits, q_logits, dim):
    """A divergence between two logit tensors: its autograd Function when a gradient is
    wanted, else only the value from ``parts`` (nothing saved for backward)."""
    p, q, out = _pair(p_logits, q_logits)
    if torch.is_grad_enabled() and (p.requires_grad or q.requires_grad):
        return function.apply(p, q, dim).to(out)
    with torch.no_grad():
        return parts(p, q, dim)[0].to(out)


def _composed_pair_grads(ctx, value, p, q, grad_output):
    """Double backward of a two-input divergence Function: the composed ``value``
    differentiated with a graph, for whichever of ``p`` and ``q`` needs a gradient."""
    needs = ctx.needs_input_grad[:2]
    wanted = [t for t, need in zip((p, q), needs) if need]
    grads = iter(torch.autograd.grad(value, wanted, grad_output, create_graph=True))
    return (*(next(grads) if need else None for need in needs), None)


def _kl_composed(p, q, dim):
    """KL of two logit tensors, composed of differentiable torch ops (for double backward)."""
    log_p = F.log_softmax(p, dim=dim)
    log_q = F.log_softmax(q, dim=dim)
    prob_p = log_p.exp()
    # classes without p-mass contribute 0; zeroing the difference first keeps -inf - (-inf)
    # (a NaN) out of both the value and the gradient
    diff = torch.where(prob_p > 0, log_p - log_q, torch.zeros_like(log_p))
    return (prob_p * diff).sum(dim)


def _kl_parts(p, q, dim):
    """KL and, for backward, p, log p - log q (0 where p = 0), log q and KL, keepdim."""
    log_p = F.log_softmax(p, dim=dim)
    log_q = F.log_softmax(q, dim=dim)
    diff = log_p.sub(log_q)
    prob_p = log_p.exp_()  # log_p is not needed any more
    diff.masked_fill_(prob_p == 0, 0.0)  # a class without p-mass contributes 0
    kl = _dot(prob_p, diff, dim)
    return kl, prob_p, diff, log_q, kl.unsqueeze(dim)


class _KLDivergence(torch.autograd.Function):
    """KL(p || q) with the closed-form gradients p (log p - log q - KL) and q - p.

    For p's logits: d KL / d log p_k = p_k (log p_k - log q_k + 1), through the softmax
    p (log(p/q) - KL) (the +1 cancels); for q's logits: -p + q sum_k p_k = q - p. Under
    ``create_graph=True`` backward differentiates the composed form instead.
    """

    @staticmethod
    def forward(ctx, p, q, dim):
        kl, prob_p, diff, log_q, kl_k = _kl_parts(p, q, dim)
        ctx.save_for_backward(p, q)
        # see _take_kept; kl_k, a view of the output, is copied
        ctx.kept = (prob_p, diff, log_q, kl_k.detach().clone())
        ctx.dim = dim
        return kl

    @staticmethod
    def backward(ctx, grad_output):
        p, q = ctx.saved_tensors
        dim = ctx.dim
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            return _composed_pair_grads(ctx, _kl_composed(p, q, dim), p, q, grad_output)
        prob_p, diff, log_q, kl = _take_kept(ctx, lambda: _kl_parts(p, q, dim)[1:])
        g = grad_output.unsqueeze(dim)
        grad_p = grad_q = None
        if ctx.needs_input_grad[0]:
            grad_p = diff.sub_(kl).mul_(prob_p).mul_(g)
        if ctx.needs_input_grad[1]:
            grad_q = log_q.exp_().sub_(prob_p).mul_(g)
        return grad_p, grad_q, None


def _log_half_one_plus_exp(d):
    """log((1 + e^d) / 2), exact near d = 0 (log1p(expm1(d) / 2)) and for large d (softplus)."""
    near = torch.log1p(torch.expm1(d.clamp(max=1.0)) * 0.5)
    far = F.softplus(d) - math.log(2.0)
    return torch.where(d <= 1.0, near, far)


def js_divergence(p_logits, q_logits, dim=-1):
    r"""Jensen-Shannon divergence between two softmax distributions, in nats.

    .. math::

        \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p\,\|\,m) + \tfrac12 \mathrm{KL}(q\,\|\,m),
        \qquad m = \tfrac12 (p + q)

    Symmetric, bounded by :math:`\log 2`. Each term uses
    :math:`\log p_k - \log m_k = -\log\bigl((1 + e^{d_k})/2\bigr)` with
    :math:`d_k = \log q_k - \log p_k`, evaluated as
    :math:`\max(d, 0) + \operatorname{log1p}(\operatorname{expm1}(-|d|)/2)`,
    so :math:`\mathrm{JS}(p, p) = 0` exactly and nearby distributions keep
    their relative accuracy (subtracting :math:`\log m` from :math:`\log p` would leave a
    rounding error of the size of the logits). A logit may be ``-inf`` (a masked class):
    a class with zero mass under both distributions contributes 0. ``+inf`` or NaN logits
    give NaN. The gradient is computed in closed form,
    :math:`\tfrac12 p \odot (\log(p/m) - \mathrm{KL}(p\,\|\,m))` for the logits of
    :math:`p` and likewise for :math:`q`; double backward differentiates the composed form.

    Example:
        >>> import torch
        >>> from companion import js_divergence
        >>> a, b = torch.tensor([30.0, 0.0]), torch.tensor([0.0, 30.0])
        >>> round(js_divergence(a, b).item(), 6)  # nearly disjoint: close to log 2
        0.693147

    See also:
        Chapter 8 (a smoothness penalty for sequence labelling).
    """
    return _divergence(_JSDivergence, _js_parts, p_logits, q_logits, dim)


def _js_composed(p, q, dim):
    """JS of two logit tensors, composed of differentiable torch ops (for double backward)."""
    log_p = F.log_softmax(p, dim=dim)
    log_q = F.log_softmax(q, dim=dim)
    prob_p, prob_q = log_p.exp(), log_q.exp()
    d = log_q - log_p
    zero = torch.zeros_like(d)
    # a class without mass contributes 0: its d (inf or NaN) is replaced before it is used
    d_p = torch.where(prob_p > 0, d, zero)
    d_q = torch.where(prob_q > 0, -d, zero)
    kl_pm = -(prob_p * _log_half_one_plus_exp(d_p)).sum(dim)   # KL(p || m)
    kl_qm = -(prob_q * _log_half_one_plus_exp(d_q)).sum(dim)   # KL(q || m)
    return 0.5 * (kl_pm + kl_qm) + 0.0  # + 0.0 turns -0.0 into 0.0


#: Elements per block of the row-wise dot product on the CPU (1 MiB in float32): few enough
#: that the block's products stay in cache, enough that each call's fixed cost is small.
_DOT_BLOCK = 1 << 18


def _dot(a, b, dim):
    """sum over ``dim`` of a * b, for two tensors of one shape.

    Along the last axis no temporary of the inputs' size is made. On the CPU the products
    are formed a block of rows at a time in one small buffer and summed while it is in
    cache (fresh pages for a full-size temporary would cost as much as the arithmetic); a
    batched matrix product, ``bmm`` of (n, 1, k) by (n, k, 1), runs n tiny products and
    took twice as long at 4096 x 1000, but is what an accelerator gets. With a gradient to
    carry, or along another axis, it is the plain ``(a * b).sum(dim)``.
    """
    if (dim not in (-1, a.dim() - 1) or a.shape != b.shape
            or (torch.is_grad_enabled() and (a.requires_grad or b.requires_grad))):
        return (a * b).sum(dim)
    k, n = a.shape[-1], math.prod(a.shape[:-1])
    a2, b2 = a.reshape(n, k), b.reshape(n, k)
    if a.device.type != "cpu":
        return torch.bmm(a2.unsqueeze(1), b2.unsqueeze(2)).reshape(a.shape[:-1])
    out = torch.empty(n, dtype=torch.result_type(a, b), device=a.device)
    rows = max(1, _DOT_BLOCK // max(k, 1))
    buf = torch.empty(min(rows, n), k, dtype=out.dtype, device=a.device)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        torch.sum(torch.mul(a2[start:stop], b2[start:stop], out=buf[:stop - start]), -1,
                  out=out[start:stop])
    return out.reshape(a.shape[:-1])


def _js_parts(p, q, dim):
    """JS and, for backward, p, q, log(p/m), log(q/m) and the two KL(. || m), keepdim.

    With d = log q - log p, log(p/m) = -log((1 + e^d)/2) = -(relu(d) + s) and
    log(q/m) = -(relu(-d) + s), where s = log1p(expm1(-|d|) / 2) is shared by both: exact
    near d = 0 (JS(p, p) = 0) and for large |d|. A class without mass gets 0 there.
    """
    log_p = F.log_softmax(p, dim=dim)
    log_q = F.log_softmax(q, dim=dim)
    d = log_q.sub(log_p)
    prob_p, prob_q = log_p.exp_(), log_q.exp_()  # log_p, log_q are not needed any more
    shared = torch.abs(d).neg_().expm1_().mul_(0.5).log1p_()
    lr_p = torch.relu(d).add_(shared).neg_().masked_fill_(prob_p == 0, 0.0)
    lr_q = d.neg_().relu_().add_(shared).neg_().masked_fill_(prob_q == 0, 0.0)
    kl_pm, kl_qm = _dot(prob_p, lr_p, dim), _dot(prob_q, lr_q, dim)
    js = (0.5 * (kl_pm + kl_qm)).add_(0.0)  # + 0.0 turns -0.0 into 0.0
    return js, prob_p, prob_q, lr_p, lr_q, kl_pm.unsqueeze(dim), kl_qm.unsqueeze(dim)


class _JSDivergence(torch.autograd.Function):
    """JS with the closed-form gradient 0.5 p (log(p/m) - KL(p || m)) for p's logits.

    d JS / d p_k = 0.5 log(p_k / m_k) (the +1s cancel since p_k + q_k = 2 m_k); through the
    softmax this becomes 0.5 p (log(p/m) - sum_j p_j log(p_j/m_j)), and the same for q.
    Under ``create_graph=True`` backward differentiates the composed form instead.
    """

    @staticmethod
    def forward(ctx, p, q, dim):
        js, *saved = _js_parts(p, q, dim)
        ctx.save_for_backward(p, q, *saved)
        ctx.dim = dim
        return js

    @staticmethod
    def backward(ctx, grad_output):
        p, q, prob_p, prob_q, lr_p, lr_q, kl_pm, kl_qm = ctx.saved_tensors
        dim = ctx.dim
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            return _composed_pair_grads(ctx, _js_composed(p, q, dim), p, q, grad_output)
        g = (0.5 * grad_output).unsqueeze(dim)
        grad_p = grad_q = None
        if ctx.needs_input_grad[0]:
            grad_p = torch.sub(lr_p, kl_pm).mul_(prob_p).mul_(g)
        if ctx.needs_input_grad[1]:
            grad_q = torch.sub(lr_q, kl_qm).mul_(prob_q).mul_(g)
        return grad_p, grad_q, None
