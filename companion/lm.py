r"""Language-model losses: perplexity and bits, and a linear cross-entropy that never holds the logits.

The last layer of a language model maps each hidden state :math:`h_n \in \mathbb{R}^H` to
:math:`V` logits, :math:`z_n = W h_n + b`. With :math:`V` in the tens of thousands the
``(N, V)`` logits and their gradient dwarf everything else the loss touches.
:func:`chunked_linear_cross_entropy` computes the same loss and gradients a few rows at a time.

The linear cross-entropy is built in three layers, as Liger-Kernel builds its fused linear
cross-entropy:

* the kernel :func:`_lce_chunks`: one loop over row chunks, no autograd;
* the ``torch.autograd.Function`` :class:`_ChunkedLinearCrossEntropy`: it runs the kernel in
  forward, keeps the finished gradients and scales them by ``grad_output`` in backward;
* the public function :func:`chunked_linear_cross_entropy`: argument checks, dtypes, shapes.
"""
from __future__ import annotations

import math

import torch

from . import _checks as C

__all__ = ["perplexity", "nats_to_bits", "bits_per_character", "chunked_linear_cross_entropy"]

_LN2 = math.log(2.0)
_LOG2E = 1.0 / _LN2
# the logits are exponentiated without a shift while the largest logit of each row's first
# tile lies within +-20 in base 2 (+-14 nats): every row's sum is then at least 2**-20, and in
# float32 a row is redone only when its sum passes 2**63, tens of nats above that peak
_NO_SHIFT_BITS = 20.0


def _check_number_or_tensor(x, name: str):
    if isinstance(x, torch.Tensor):
        C.check_floating(x, name)
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{name} must be a real number or a floating tensor, got {type(x).__name__}")
    return float(x)


def _exp(x):
    return torch.exp(x) if isinstance(x, torch.Tensor) else math.exp(x)


def perplexity(mean_nll_nats):
    r"""Perplexity from a mean negative log-likelihood in nats.

    .. math::

        \mathrm{PPL} = \exp\Bigl(-\frac{1}{N}\sum_{n=1}^{N} \log q(x_n \mid x_{<n})\Bigr)

    the effective number of equally likely choices the model hesitates between per token.

    Args:
        mean_nll_nats: the mean cross-entropy per token in nats (a number or a floating
            tensor of any shape, e.g. the output of ``cross_entropy(..., reduction="mean")``).

    Returns:
        ``exp(mean_nll_nats)``: a float for a number, a tensor of the same shape for a tensor.

    Raises:
        TypeError: the argument is neither a real number nor a floating tensor.

    Example:
        >>> import math
        >>> from companion import perplexity
        >>> round(perplexity(math.log(50.0)), 6)  # a uniform guess over 50 tokens
        50.0

    References:
        Jelinek et al. (1977), *Perplexity, a measure of the difficulty of speech recognition
        tasks*, https://doi.org/10.1121/1.2016299.

    See also:
        The chapter on language modelling (perplexity, bits per character).
    """
    return _exp(_check_number_or_tensor(mean_nll_nats, "mean_nll_nats"))


def nats_to_bits(x):
    r"""Convert an information quantity from nats to bits, :math:`x / \ln 2`.

    Args:
        x: a number or a floating tensor, in nats.

    Returns:
        ``x / log(2)`` in bits, of the same kind as ``x``.

    Example:
        >>> import math
        >>> from companion import nats_to_bits
        >>> nats_to_bits(math.log(8.0))
        3.0

    See also:
        The chapter on language modelling (perplexity, bits per character).
    """
    return _check_number_or_tensor(x, "x") / _LN2


def bits_per_character(total_nll_nats, num_characters):
    r"""Bits per character from a summed negative log-likelihood in nats.

    .. math::

        \mathrm{BPC} = \frac{-\sum_n \log q(x_n \mid x_{<n})}{C \ln 2}

    with :math:`C` the number of characters of the text. The sum runs over whatever units the
    model predicts (characters, bytes or sub-word tokens), so that models with different
    tokenisers are compared per character of the same text.

    Args:
        total_nll_nats: the summed cross-entropy in nats (``reduction="sum"``), a number or a
            floating tensor.
        num_characters: the number of characters :math:`C > 0` of the text (an ``int``).

    Returns:
        The bits per character, of the same kind as ``total_nll_nats``.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: ``num_characters`` is not positive.

    Example:
        >>> import math
        >>> from companion import bits_per_character
        >>> bits_per_character(100 * math.log(4.0), 100)  # 2 bits per character
        2.0

    See also:
        The chapter on language modelling (perplexity, bits per character).
    """
    total = _check_number_or_tensor(total_nll_nats, "total_nll_nats")
    if isinstance(num_characters, bool) or not isinstance(num_characters, int):
        raise TypeError(f"num_characters must be an int, got {type(num_characters).__name__}")
    if num_characters <= 0:
        raise ValueError(f"num_characters must be > 0, got {num_characters}")
    return total / (num_characters * _LN2)


# ------------------------------------------------------------------------------------ kernel

class _Extras:
    """The optional terms of the loss, fixed for one call (all off: the plain cross-entropy).

    ``class_weight`` (V,) or None; ``smoothing`` alpha; ``z_loss`` lambda; ``softcap`` c or None;
    ``ce_scale`` / ``z_scale``: the constants the CE part and the z-loss part are multiplied by
    (1/sum of counted weights and 1/n_counted for a mean, 1 for a sum).
    """

    def __init__(self, class_weight=None, smoothing=0.0, z_loss=0.0, softcap=None):
        self.class_weight, self.smoothing = class_weight, smoothing
        self.z_loss, self.softcap = z_loss, softcap
        self.ce_scale = self.z_scale = 1.0

    @property
    def plain(self) -> bool:
        return (self.class_weight is None and not self.smoothing and not self.z_loss
                and self.softcap is None)


def _lce_chunks_general(h, w, b, t, chunk_size, extras, *, row_scale=None,
                        need_grad_hidden=False, need_grad_weight=False, need_grad_bias=False,
                        predictions=None):
    """:func:`_lce_chunks` with class weights, label smoothing, z-loss and soft-capping.

    Per row, with s = c tanh(z / c) (s = z without a cap), lse = logsumexp(s), p = softmax(s):

        ce_n = (1 - a) w_y (lse - s_y) + (a / V) sum_k w_k (lse - s_k)      (PyTorch's form)
        zl_n = lam lse^2
        d ce_n / d s = [(1 - a) w_y + (a / V) sum_k w_k] p - (1 - a) w_y e_y - (a / V) w
        d zl_n / d s = 2 lam lse p,        d s / d z = 1 - (s / c)^2

    Returns ``(ce (n,), zl (n,), grad_h, grad_w, grad_b)``; the gradients are of
    ``sum_n r_n (ce_scale ce_n + z_scale zl_n)`` with ``r = row_scale`` (1 when None).
    Extra memory: the ``(chunk, V)`` buffer, and a second one when soft-capping (for ds/dz).
    """
    n, v = h.shape[0], w.shape[0]
    need_grad = need_grad_hidden or need_grad_weight or need_grad_bias
    ce = torch.zeros(n, dtype=h.dtype, device=h.device)
    zl = torch.zeros(n, dtype=h.dtype, device=h.device)
    grad_h = torch.empty_like(h) if need_grad_hidden else None
    grad_w = torch.zeros_like(w) if need_grad_weight else None
    grad_b = torch.zeros(v, dtype=h.dtype, device=h.device) if need_grad_bias else None
    if n == 0:
        return ce, zl, grad_h, grad_w, grad_b
    a, lam, cap, cw = extras.smoothing, extras.z_loss, extras.softcap, extras.class_weight
    w_sum = float(v) if cw is None else cw.sum()
    buf = torch.empty(min(chunk_size, n), v, dtype=h.dtype, device=h.device)
    tanh_buf = torch.empty_like(buf) if (cap is not None and need_grad) else None
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        h_c, t_c = h[start:stop], t[start:stop].unsqueeze(1)
        s = buf[: stop - start]
        # matrix product 1 of 3: the chunk's logits
        if b is None:
            torch.mm(h_c, w.t(), out=s)
        else:
            torch.addmm(b, h_c, w.t(), out=s)
        if cap is not None:
            # soft-capping s = c tanh(z / c); keep tanh for d s / d z = 1 - tanh^2
            s.div_(cap).tanh_()
            if tanh_buf is not None:
                tanh_buf[: stop - start].copy_(s)
            s.mul_(cap)
        s_y = s.gather(1, t_c).squeeze(1)
        w_y = None if cw is None else cw.index_select(0, t_c.squeeze(1))
        if a:
            # sum_k w_k s_k before s is overwritten (a matrix-vector product when weighted)
            ws = s.sum(1) if cw is None else s @ cw
        if predictions is not None:
            predictions[start:stop] = s.argmax(1)
        # s <- softmax(s) in place, keeping lse = m + log sum exp(s - m)
        m = s.amax(1, keepdim=True)
        s.sub_(m).exp_()
        sum_exp = s.sum(1, keepdim=True)
        s.div_(sum_exp)
        lse = (m + sum_exp.log()).squeeze(1)
        nll = lse - s_y
        ce_c = (1 - a) * (nll if w_y is None else w_y * nll)
        if a:
            ce_c = ce_c + (a / v) * (w_sum * lse - ws)
        ce[start:stop] = ce_c
        if lam:
            zl[start:stop] = lam * lse * lse
        if not need_grad:
            continue
        r = None if row_scale is None else row_scale[start:stop]
        c_ce = extras.ce_scale if r is None else extras.ce_scale * r
        c_z = extras.z_scale if r is None else extras.z_scale * r
        coef_p = (1 - a) * (1.0 if w_y is None else w_y) + (a / v) * w_sum
        coef_p = c_ce * coef_p + (2 * lam) * c_z * lse if lam else c_ce * coef_p
        if not isinstance(coef_p, torch.Tensor):
            coef_p = torch.full((stop - start,), coef_p, dtype=h.dtype, device=h.device)
        s.mul_(coef_p.unsqueeze(1))
        hit = (1 - a) * (1.0 if w_y is None else w_y) * c_ce
        if not isinstance(hit, torch.Tensor):
            hit = torch.full((stop - start,), hit, dtype=h.dtype, device=h.device)
        s.scatter_add_(1, t_c, -hit.unsqueeze(1))
        if a:
            d = (a / v) * (c_ce if isinstance(c_ce, torch.Tensor) else
                           torch.full((stop - start,), c_ce, dtype=h.dtype, device=h.device))
            if cw is None:
                s.sub_(d.unsqueeze(1))
            else:
                s.sub_(d.unsqueeze(1) * cw.unsqueeze(0))
        if tanh_buf is not None:
            # chain rule through the cap: times 1 - tanh^2
            t2 = tanh_buf[: stop - start]
            s.mul_(t2.square_().neg_().add_(1.0))
        if need_grad_bias:
            grad_b.add_(s.sum(0))
        if need_grad_weight:
            # matrix product 2 of 3
            grad_w.addmm_(s.t(), h_c)
        if need_grad_hidden:
            # matrix product 3 of 3
            torch.mm(s, w, out=grad_h[start:stop])
    return ce, zl, grad_h, grad_w, grad_b


def _vocab_block(rows: int, v: int) -> int:
    """Vocabulary entries per tile: about 2**21 logits (8 MB in float32), small enough that a
    tile is still in cache when its exponentials and its sums are taken."""
    return min(v, max(512, (1 << 21) // rows))


def _vocab_tiles(rows: int, v: int) -> list:
    """``(lo, hi)`` of the vocabulary tiles for chunks of ``rows`` rows (the last one shorter)."""
    step = _vocab_block(rows, v)
    return [(lo, min(v, lo + step)) for lo in range(0, v, step)]


def _logit_tile(w, b, h_t, alpha, out):
    """``out = alpha * (w @ h_t) (+ b)``: a tile of matrix product 1 of 3, scaled for free."""
    if alpha == 1.0:
        torch.mm(w, h_t, out=out)
    else:  # beta = 0: out's old contents are ignored, even NaN
        torch.addmm(out, w, h_t, beta=0.0, alpha=alpha, out=out)
    return out if b is None else out.add_(b.unsqueeze(1))


def _exp_tiles(w, b, h_t, e, blocks, exp_, alpha, no_shift, predictions):
    """Fill ``e`` (V, r) with ``exp(z - shift)``, one column per row, tile by tile.

    ``z = alpha * (w @ h_t) (+ b)`` are the logits in the units ``exp_`` expects; ``shift``
    (r,) is the largest logit of the first tile of each column, or 0 when all of those lie
    within +-``no_shift`` (no subtraction pass): an exact maximum is not needed, only a
    shift that keeps the sums well inside the floating-point range, which the caller checks.
    While a tile is in cache it also updates ``predictions`` (the first largest logit).
    Returns the column sums (r,).
    """
    sums = shift = best = arg = None
    for j, (lo, hi) in enumerate(blocks):
        tile = _logit_tile(w[lo:hi], None if b is None else b[lo:hi], h_t, alpha, e[lo:hi])
        if predictions is not None:
            val, idx = tile.max(0)
            if best is None:
                best, arg = val, idx
            else:
                better = (val > best) | (val.isnan() & ~best.isnan())
                best, arg = torch.where(better, val, best), torch.where(better, idx + lo, arg)
        if j == 0:
            shift = tile.amax(0)
            # the sums start at exp(max of the first tile) >= 2**-20: far from underflow
            if bool((shift.abs() <= no_shift).all()):
                shift = None
        exp_(tile if shift is None else tile.sub_(shift))
        part = tile.sum(0)
        sums = part if sums is None else sums.add_(part)
    if predictions is not None:
        predictions.copy_(arg)
    return sums


def _exact_columns(w, b, h_t, e, blocks, cols, exp_, alpha, sums):
    """Redo the columns ``cols`` of ``e`` and ``sums`` against their exact largest logit.

    For the rare rows whose maximum lies so far above their first tile's that the sums left
    the safe range (tens of nats in float32), or whose logits are not finite. Two passes
    over the tiles of those columns only, in a ``(tile, len(cols))`` scratch: their maxima,
    then their exponentials and sums.
    """
    h_b = h_t.index_select(1, cols)
    k = cols.shape[0]
    scratch = torch.empty(max(hi - lo for lo, hi in blocks) * k, dtype=e.dtype, device=e.device)

    def logits(lo, hi):
        return _logit_tile(w[lo:hi], None if b is None else b[lo:hi], h_b, alpha,
                           scratch[: (hi - lo) * k].view(hi - lo, k))

    top = torch.full((k,), -math.inf, dtype=e.dtype, device=e.device)
    for lo, hi in blocks:
        torch.maximum(top, logits(lo, hi).amax(0), out=top)
    s_b = torch.zeros(k, dtype=e.dtype, device=e.device)
    for lo, hi in blocks:
        z = logits(lo, hi)
        exp_(z.sub_(top))
        s_b.add_(z.sum(0))
        e[lo:hi].index_copy_(1, cols, z)
    sums.index_copy_(0, cols, s_b)


def _lce_chunks(h, w, b, t, chunk_size, *, scale=1.0, row_scale=None, need_grad_hidden=False,
                need_grad_weight=False, need_grad_bias=False, predictions=None):
    """Per-row losses and, optionally, gradients of ``sum_n s_n * loss_n``, chunk by chunk.

    ``h`` (n, H), ``w`` (V, H), ``b`` (V,) or None, all in the compute dtype; ``t`` (n,) class
    indices, every row counted (ignored rows were removed by the caller). The row weights are
    ``s_n = scale * row_scale[n]`` (``row_scale`` None means 1). Returns
    ``(loss (n,), grad_h (n, H) | None, grad_w (V, H) | None, grad_b (V,) | None)``.
    Peak extra memory: one ``(V, chunk_size)`` buffer, the gradients themselves and vectors
    of ``chunk_size``.

    Layout. A chunk's logits are held transposed, ``e`` (V, r) with one column per row, and
    are made in vocabulary tiles of :func:`_vocab_block` entries, ``W_tile @ h_c^T``; each
    tile is exponentiated and summed while it is still in cache. Base-2 exponentials of
    logits scaled by ``log2(e)`` in the product itself (``exp2`` is several times faster
    than ``exp`` on CPU); with ``predictions`` the natural logits are kept, so that the
    argmax is that of the logits themselves. In this layout the weight gradient is
    ``e @ h_c``, the fastest form of that product.

    With ``e = exp(z - shift)`` and ``S = sum_v e_v`` per row, the loss is
    ``-log(e_t / S)`` and the gradient of the logits, ``s_n (p_n - onehot_n)``, is
    ``(s_n / S_n) (e_n - S_n onehot_n)``: the one-hot is subtracted in place, each tile is
    scaled by ``s / S`` while it is read back for the two gradient products. ``shift`` is 0
    when the largest logit of each row's first tile lies within +-14 nats (the usual case: no
    subtraction pass), that largest logit otherwise; either way ``S >= 2**-20``. A row whose
    ``S`` is not finite or lies outside ``[sqrt(tiny), 1 / sqrt(tiny)]`` (its maximum lies
    far above the first tile's) is redone against its exact maximum
    (:func:`_exact_columns`).
    """
    n, v = h.shape[0], w.shape[0]
    dt, dev = h.dtype, h.device
    need_grad = need_grad_hidden or need_grad_weight or need_grad_bias
    loss = torch.empty(n, dtype=dt, device=dev)
    grad_h = torch.empty_like(h) if need_grad_hidden else None
    # the first chunk's addmm (beta = 0) overwrites grad_w: no pass to zero it first
    grad_w = torch.empty_like(w) if need_grad_weight else None
    grad_b = torch.zeros(v, dtype=dt, device=dev) if need_grad_bias else None
    if n == 0:
        return loss, grad_h, None if grad_w is None else grad_w.zero_(), grad_b
    tiny = torch.finfo(dt).tiny
    too_small = math.sqrt(tiny)
    too_big = 1.0 / too_small
    rows = min(chunk_size, n)
    blocks = _vocab_tiles(rows, v)
    natural = predictions is not None
    exp_, alpha = (torch.Tensor.exp_, 1.0) if natural else (torch.Tensor.exp2_, _LOG2E)
    no_shift = _NO_SHIFT_BITS * (_LN2 if natural else 1.0)
    b_in = b if (b is None or natural) else b * _LOG2E
    flat = torch.empty(v * rows, dtype=dt, device=dev)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        r = stop - start
        h_c, t_c = h[start:stop], t[start:stop]
        e = flat[: v * r].view(v, r)
        pred = None if predictions is None else predictions[start:stop]
        h_t = h_c.t()
        sums = _exp_tiles(w, b_in, h_t, e, blocks, exp_, alpha, no_shift, pred)
        redo = ~((sums >= too_small) & (sums <= too_big))
        if bool(redo.any()):
            _exact_columns(w, b_in, h_t, e, blocks, redo.nonzero().squeeze(1), exp_, alpha, sums)
        e_t = e.gather(0, t_c.unsqueeze(0)).squeeze(0)
        p_t = e_t / sums
        # loss = -log p_t, exact while e_t and p_t are normal floats (their relative error
        # is a few ulps, so the loss's absolute error is too); rows where either underflowed
        # (a loss above ~70 nats in float32) get lse - z_t from their own logits, recomputed
        loss_c = loss[start:stop]
        torch.neg(torch.log(p_t), out=loss_c)
        small = (p_t < tiny) | (e_t < tiny)
        if bool(small.any()):
            idx = small.nonzero().squeeze(1)
            z_rows = h_c.index_select(0, idx) @ w.t()
            if b is not None:
                z_rows = z_rows + b
            t_rows = t_c.index_select(0, idx).unsqueeze(1)
            loss_c[idx] = torch.logsumexp(z_rows, 1) - z_rows.gather(1, t_rows).squeeze(1)
        if not need_grad:
            continue
        # G^T = (s / S) (e - S onehot): the one-hot in place, the scale tile by tile below
        e.scatter_add_(0, t_c.unsqueeze(0), sums.neg().unsqueeze(0))
        s_over_sum = (scale / sums if row_scale is None
                      else row_scale[start:stop] * scale / sums).unsqueeze(0)
        g_h = grad_h[start:stop] if need_grad_hidden else None
        for j, (lo, hi) in enumerate(blocks):
            tile = e[lo:hi].mul_(s_over_sum)
            if need_grad_weight:
                # matrix product 2 of 3, a tile of it: d/dW = G^T h, accumulated over chunks
                grad_w[lo:hi].addmm_(tile, h_c, beta=0.0 if start == 0 else 1.0)
            if need_grad_hidden:
                # matrix product 3 of 3, a tile of it: d/dh = G W, accumulated over tiles
                if j == 0:
                    torch.mm(tile.t(), w[lo:hi], out=g_h)
                else:
                    g_h.addmm_(tile.t(), w[lo:hi])
            if need_grad_bias:
                grad_b[lo:hi].add_(tile.sum(1))
    return loss, grad_h, grad_w, grad_b


# ----------------------------------------------------------------------- autograd Function

class _ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Scalar reductions take their gradients from forward; ``"none"`` recomputes in backward.

    * ``"mean"`` / ``"sum"``: the loss is :math:`c \\sum_n \\ell_n` with constants
      :math:`c` (``1/n_counted`` or 1; ``1/sum of counted class weights`` for the CE part
      with ``class_weight``), so the gradient of ``grad_output * loss`` is ``grad_output``
      times the gradient computed in forward. Forward keeps only the three gradients (never
      the logits) and backward scales them: three matrix products in all. The buffers are
      handed over on the first backward (no copy); a second backward (``retain_graph=True``,
      ``gradcheck``) recomputes them from the saved inputs.
    * ``"none"``: the gradient of :math:`\\sum_n g_n \\ell_n` needs the per-row
      ``grad_output`` :math:`g_n`, unknown in forward. Forward computes the losses only;
      backward reruns the chunks with row weights :math:`g_n`: four matrix products, still no
      ``(N, V)`` tensor.

    Ignored rows are dropped before the loop (their loss and gradient are zero), so they cost
    no matrix products. The second output, the predicted class per row, is not differentiable.
    """

    @staticmethod
    def forward(ctx, hidden, weight, bias, target, chunk_size, ignore_index, reduction, extras,
                want_predictions):
        # hidden (N, H), target (N,): flattened by the public function
        ctx.save_for_backward(hidden, weight, bias, target)
        ctx.chunk_size, ctx.ignore_index, ctx.reduction = chunk_size, ignore_index, reduction
        ctx.extras = extras
        ctx.dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)
        h, w, b, t_v, rows = _prepare(hidden, weight, bias, target, ignore_index)
        n_valid = t_v.shape[0]
        pred_v = (torch.empty(n_valid, dtype=torch.long, device=h.device)
                  if want_predictions else None)

        if reduction == "none":
            ctx.grads = None
            loss_v = _run(ctx, h, w, b, t_v, rows, need_grads=False, predictions=pred_v)[0]
            if rows is not None:
                loss_v = torch.zeros(h.shape[0], dtype=h.dtype,
                                     device=h.device).index_copy_(0, rows, loss_v)
            out = loss_v.to(hidden.dtype)
        else:
            # mean over the counted rows (0 with zero gradient when there are none), or the sum
            if reduction == "mean":
                extras.z_scale = 1.0 / n_valid if n_valid else 0.0
                if extras.class_weight is None:
                    extras.ce_scale = extras.z_scale
                else:
                    den = float(extras.class_weight.to(h.dtype).index_select(0, t_v).sum())
                    extras.ce_scale = 1.0 / den if den > 0 else 0.0
            else:
                extras.ce_scale = extras.z_scale = 1.0
            loss_v, *grads = _run(ctx, h, w, b, t_v, rows, predictions=pred_v)
            ctx.grads = grads
            out = loss_v.sum().to(hidden.dtype)
        if pred_v is None:
            pred = torch.empty(0, dtype=torch.long, device=hidden.device)
        elif rows is None:
            pred = pred_v
        else:
            pred = torch.full((hidden.shape[0],), ignore_index, dtype=torch.long,
                              device=hidden.device).index_copy_(0, rows, pred_v)
        ctx.mark_non_differentiable(pred)
        return out, pred

    @staticmethod
    def backward(ctx, grad_output, _grad_predictions):
        if torch.is_grad_enabled():
            # create_graph=True: the closed-form gradient has no graph of its own, so a
            # gradient penalty would silently vanish; say so instead
            raise RuntimeError("chunked_linear_cross_entropy does not support double backward "
                               "(create_graph=True); use the naive F.cross_entropy(hidden @ "
                               "weight.T, target) form for higher-order gradients")
        hidden, weight, bias, target = ctx.saved_tensors
        if ctx.reduction == "none":
            h, w, b, t_v, rows = _prepare(hidden, weight, bias, target, ctx.ignore_index)
            g = grad_output.reshape(-1).to(h.dtype)
            ctx.extras.ce_scale = ctx.extras.z_scale = 1.0
            grads = _run(ctx, h, w, b, t_v, rows,
                         row_scale=g if rows is None else g.index_select(0, rows))[1:]
            return (*grads, None, None, None, None, None, None)
        if ctx.grads is not None:
            grads, ctx.grads = ctx.grads, None  # hand the buffers over instead of copying them
        else:  # a second backward through the same graph: recompute
            grads = _run(ctx, *_prepare(hidden, weight, bias, target, ctx.ignore_index))[1:]
        # the forward gradients are for grad_output = 1; scale them only when it is not 1
        if bool(grad_output != 1):
            grads = [None if g is None else g * grad_output.to(g.dtype) for g in grads]
        return (*grads, None, None, None, None, None, None)


def _prepare(hidden, weight, bias, target, ignore_index):
    """Cast to the compute dtype; the counted rows' targets and their indices (None: all)."""
    acc = C.compute_dtype(hidden)
    h, w = hidden.to(acc), weight.to(acc)
    b = None if bias is None else bias.to(acc)
    valid = target != ignore_index
    rows = None if bool(valid.all()) else valid.nonzero().squeeze(1)
    t_v = (target if rows is None else target.index_select(0, rows)).long()
    return h, w, b, t_v, rows


def _run(ctx, h, w, b, t_v, rows, row_scale=None, need_grads=True, predictions=None):
    """The kernel on the counted rows; gradients scattered back and cast to the input dtypes.

    Returns ``[loss per counted row (the reduction's scales applied), grad_h, grad_w,
    grad_b]``.
    """
    need_h, need_w, need_b = (ctx.needs_input_grad[:3] if need_grads else (False,) * 3)
    h_v = h if rows is None else h.index_select(0, rows)
    extras = ctx.extras
    if extras.plain:
        loss_v, g_h, g_w, g_b = _lce_chunks(
            h_v, w, b, t_v, ctx.chunk_size, scale=extras.ce_scale, row_scale=row_scale,
            need_grad_hidden=need_h, need_grad_weight=need_w, need_grad_bias=need_b,
            predictions=predictions)
        loss_v = loss_v * extras.ce_scale
    else:
        cw = extras.class_weight
        if cw is not None:
            extras.class_weight = cw.to(h.dtype)
        ce, zl, g_h, g_w, g_b = _lce_chunks_general(
            h_v, w, b, t_v, ctx.chunk_size, extras, row_scale=row_scale,
            need_grad_hidden=need_h, need_grad_weight=need_w, need_grad_bias=need_b,
            predictions=predictions)
        loss_v = extras.ce_scale * ce + extras.z_scale * zl
    if g_h is not None and rows is not None:
        g_h = torch.zeros_like(h).index_copy_(0, rows, g_h)
    grads = [None if g is None else g.to(dt) for g, dt in zip((g_h, g_w, g_b), ctx.dtypes)]
    return [loss_v, *grads]


# --------------------------------------------------------------------------- public function

def chunked_linear_cross_entropy(hidden, weight, target, *, bias=None, chunk_size=4096,
                                 ignore_index=-100, reduction="mean", class_weight=None,
                                 label_smoothing=0.0, z_loss_scale=0.0, softcap=None,
                                 return_predictions=False):
    r"""Cross-entropy of a linear layer's logits, computed without the ``(N, V)`` logits.

    Computes ``F.cross_entropy(hidden @ weight.T + bias, target, ignore_index=ignore_index,
    reduction=reduction)`` (without ``+ bias`` when ``bias`` is None), in value and in the
    gradients with respect to ``hidden``, ``weight`` and ``bias``, without allocating the
    intermediate ``(N, V)`` logits or their gradient:

    .. math::

        \begin{aligned}
        \ell_n &= \operatorname{logsumexp}(z_n) - z_{n, y_n}, \qquad z_n = W h_n + b,\\
        \frac{\partial \ell_n}{\partial z_n} &= \operatorname{softmax}(z_n) - e_{y_n}.
        \end{aligned}

    The options LM trainers use are computed in the same pass: ``class_weight`` and
    ``label_smoothing`` exactly as ``F.cross_entropy``'s ``weight`` and ``label_smoothing``;
    the z-loss of PaLM, :math:`\lambda \operatorname{logsumexp}(z_n)^2` added per counted
    token (its mean divides by the number of counted tokens, the CE part's mean by the sum of
    their class weights, as PyTorch's); soft-capping as in Gemma 2, which replaces the logits
    by :math:`c \tanh(z / c)` before everything else; and the predicted class of every token
    (``return_predictions=True``), for the accuracy without a second pass.

    The rows are processed ``chunk_size`` at a time. For ``"mean"`` and ``"sum"`` each chunk's
    softmax-minus-one-hot is formed in place and immediately multiplied into the gradients of
    ``weight`` (:math:`G^\top H`, accumulated), ``hidden`` (:math:`G W`) and ``bias``
    (:math:`\sum_n G_n`) during forward; backward only scales them by ``grad_output``. That is
    three matrix products in all, the same as the naive form, and the extra memory is one
    buffer of ``chunk_size * V`` numbers (without the options, it holds the logits transposed
    and is filled and exponentiated in vocabulary tiles that stay in cache). ``"none"`` is a
    separate path: forward computes the losses only and backward recomputes the chunks with
    each row's ``grad_output`` (four matrix products, still chunked). Half-precision inputs
    are computed and accumulated in float32 and the loss and gradients are returned in the
    input dtypes.

    Unlike PyTorch, an all-ignored batch gives a mean of 0 with zero gradients (not NaN).
    Double backward is not supported and says so (``RuntimeError`` under
    ``create_graph=True``); a second backward through the same graph (``retain_graph=True``)
    recomputes the gradients chunk by chunk. With ``softcap`` the extra memory is two
    ``(chunk_size, V)`` buffers.

    Shape:
        - hidden: ``(..., H)``; weight: ``(V, H)``; bias: ``(V,)``; target: ``(...)``.
        - output: scalar for ``"mean"`` / ``"sum"``, ``(...)`` for ``"none"`` (0 at ignored
          positions).

    Args:
        hidden: ``(..., H)`` floating tensor, the inputs of the output layer.
        weight: ``(V, H)`` output-layer weight of the same dtype and device.
        target: ``(...)`` integer class indices in ``[0, V)`` or ``ignore_index``.
        bias: optional ``(V,)`` output-layer bias of the same dtype.
        chunk_size: rows per chunk (a positive int); peak extra memory is about
            ``chunk_size * V`` floats.
        ignore_index: target value left out of the loss and of the mean's divisor.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        class_weight: optional ``(V,)`` per-class weights, finite and >= 0 (PyTorch's
            ``weight`` of ``F.cross_entropy``; here ``weight`` names the layer).
        label_smoothing: :math:`\alpha \in [0, 1]`, uniform over the ``V`` classes.
        z_loss_scale: :math:`\lambda \ge 0`, the weight of the z-loss (PaLM uses 1e-4).
        softcap: ``None`` or :math:`c > 0`, the logit soft-cap (Gemma 2 uses 30).
        return_predictions: also return the argmax class of every row (``ignore_index`` at
            ignored rows), computed from the same logits.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; the ``(...)`` per-row losses for ``"none"``.
        With ``return_predictions=True``, a pair ``(loss, predictions)`` with ``predictions``
        a ``(...)`` long tensor.

    Raises:
        TypeError: a tensor argument has the wrong type or dtype, or ``chunk_size`` is not an int.
        ValueError: shapes, dtypes or devices disagree, a class index is out of range,
            ``chunk_size`` is not positive, ``reduction`` is unknown, or an option is out of
            range or not finite.
        RuntimeError: on double backward (``create_graph=True``).

    Example:
        >>> import torch
        >>> import torch.nn.functional as F
        >>> from companion import chunked_linear_cross_entropy
        >>> g = torch.Generator().manual_seed(0)
        >>> h = torch.randn(10, 4, generator=g, dtype=torch.float64)
        >>> W = torch.randn(7, 4, generator=g, dtype=torch.float64)
        >>> y = torch.randint(7, (10,), generator=g)
        >>> ours = chunked_linear_cross_entropy(h, W, y, chunk_size=3)
        >>> bool(torch.isclose(ours, F.cross_entropy(h @ W.T, y)))
        True
        >>> loss, pred = chunked_linear_cross_entropy(h, W, y, label_smoothing=0.1,
        ...                                           return_predictions=True)
        >>> bool(torch.isclose(loss, F.cross_entropy(h @ W.T, y, label_smoothing=0.1)))
        True
        >>> bool((pred == (h @ W.T).argmax(1)).all())
        True

    References:
        Hsu et al. (2024), *Liger Kernel: efficient Triton kernels for LLM training*,
        https://arxiv.org/abs/2410.10989; Wijmans et al. (2025), *Cut your losses in
        large-vocabulary language models*, https://arxiv.org/abs/2411.09009; Chowdhery et al.
        (2022), *PaLM*, https://arxiv.org/abs/2204.02311 (z-loss); Gemma Team (2024),
        *Gemma 2*, https://arxiv.org/abs/2408.00118 (soft-capping).

    See also:
        The chapter on language modelling (the cost of a large vocabulary).
    """
    C.check_floating(hidden, "hidden")
    C.check_floating(weight, "weight")
    C.check_tensor(target, "target")
    C.check_reduction(reduction)
    if hidden.dim() < 1:
        raise ValueError(f"hidden must have at least 1 dimension (features last), got shape {tuple(hidden.shape)}")
    if weight.dim() != 2:
        raise ValueError(f"weight must have shape (V, H), got shape {tuple(weight.shape)}")
    if weight.shape[1] != hidden.shape[-1]:
        raise ValueError(f"weight has shape {tuple(weight.shape)} but hidden has shape "
                         f"{tuple(hidden.shape)}; weight must be (V, {hidden.shape[-1]})")
    if weight.shape[0] == 0:
        raise ValueError(f"weight must have at least one class (row), got shape {tuple(weight.shape)}")
    if weight.dtype != hidden.dtype:
        raise TypeError(f"weight has dtype {weight.dtype} but hidden has dtype {hidden.dtype}; "
                        "they must be equal")
    C.check_same_device("hidden", hidden, "weight", weight)
    v = weight.shape[0]
    if bias is not None:
        C.check_floating(bias, "bias")
        if bias.shape != (v,):
            raise ValueError(f"bias has shape {tuple(bias.shape)} but must have shape ({v},), "
                             "one entry per row of weight")
        if bias.dtype != hidden.dtype:
            raise TypeError(f"bias has dtype {bias.dtype} but hidden has dtype {hidden.dtype}; "
                            "they must be equal")
        C.check_same_device("hidden", hidden, "bias", bias)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be > 0, got {chunk_size}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != hidden.shape[:-1]:
        raise ValueError(f"target has shape {tuple(target.shape)} but hidden has shape "
                         f"{tuple(hidden.shape)}; target must have shape {tuple(hidden.shape[:-1])}")
    C.check_same_device("hidden", hidden, "target", target)
    counted = target[target != ignore_index]
    if counted.numel():
        lo, hi = int(counted.min()), int(counted.max())
        if hi >= v:
            raise ValueError(f"target has class index {hi} but weight has {v} classes (rows)")
        if lo < 0:
            raise ValueError(f"target has negative class index {lo} (ignore_index is {ignore_index})")

    extras = _check_extras(v, hidden, class_weight, label_smoothing, z_loss_scale, softcap)
    if not isinstance(return_predictions, bool):
        raise TypeError("return_predictions must be a bool, got "
                        f"{type(return_predictions).__name__}")

    batch_shape = hidden.shape[:-1]
    out, pred = _ChunkedLinearCrossEntropy.apply(
        hidden.reshape(-1, hidden.shape[-1]), weight, bias, target.reshape(-1), chunk_size,
        ignore_index, reduction, extras, return_predictions)
    out = out.reshape(batch_shape) if reduction == "none" else out
    return (out, pred.reshape(batch_shape)) if return_predictions else out


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_extras(v, hidden, class_weight, label_smoothing, z_loss_scale, softcap):
    if class_weight is not None:
        C.check_floating(class_weight, "class_weight")
        if class_weight.shape != (v,):
            raise ValueError(f"class_weight has shape {tuple(class_weight.shape)} but must have "
                             f"shape ({v},), one entry per row of weight")
        C.check_same_device("hidden", hidden, "class_weight", class_weight)
        if not bool(torch.isfinite(class_weight).all()) or bool((class_weight < 0).any()):
            raise ValueError("class_weight must be finite and >= 0 (no NaN or inf)")
        class_weight = class_weight.detach()
    alpha = _number(label_smoothing, "label_smoothing")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    lam = _number(z_loss_scale, "z_loss_scale")
    if lam < 0:
        raise ValueError(f"z_loss_scale must be >= 0, got {z_loss_scale}")
    if softcap is not None:
        softcap = _number(softcap, "softcap")
        if softcap <= 0:
            raise ValueError(f"softcap must be None or > 0, got {softcap}")
    return _Extras(class_weight, alpha, lam, softcap)
