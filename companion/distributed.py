r"""Cross-entropy across processes, on ``torch.distributed``.

Two things go wrong when a language model's loss is spread over several processes, and this
module holds one remedy for each.

**The mean over the wrong count.** With padding (``ignore_index``) or class weights, the mean
of per-micro-batch (or per-rank) means is not the mean over the global batch: a token in a
short micro-batch counts for more than a token in a long one. The global mean is the sum of the
per-token losses over every rank and accumulation step divided by the global count of counted
tokens (or the global sum of their weights). :func:`local_normalizer` counts one micro-batch;
:func:`global_normalizer` adds the counts over the ranks of a group. Divide a
``reduction="sum"`` loss by it and the value and the gradients equal those of the
single-process full batch.

**Logits that do not fit on one device.** With a vocabulary-parallel output layer each rank
holds a contiguous slice of the vocabulary and of the logits.
:func:`vocab_parallel_cross_entropy` computes the cross-entropy from three per-row pieces, each
combined by one all-reduce — the row maximum, the sum of exponentials and the target's logit
(plus the row sum of logits for label smoothing) — so the ``(N, V)`` logits are never gathered,
as Megatron-LM's vocabulary-parallel cross-entropy does.
:func:`vocab_parallel_linear_cross_entropy` does the same from the hidden states and this rank's
rows of the output layer, a chunk of rows at a time, so that not even the local ``(N, V_r)``
slice of the logits is held at once.

Every function works without an initialised process group too (then the group is this process
alone), which is how the book's Chapter 13 shows them on one CPU.
"""
from __future__ import annotations

import torch
import torch.distributed as dist

from . import _checks as C

__all__ = ["local_normalizer", "global_normalizer", "vocab_parallel_cross_entropy",
           "vocab_parallel_linear_cross_entropy"]

_REDUCTIONS = ("mean", "sum", "none")


def _active(group) -> bool:
    return dist.is_available() and dist.is_initialized() and (
        group is None or dist.get_world_size(group) > 0)


def _world_size(group) -> int:
    return dist.get_world_size(group) if _active(group) else 1


def _rank(group) -> int:
    return dist.get_rank(group) if _active(group) else 0


def _all_reduce(x: torch.Tensor, op, group) -> torch.Tensor:
    if _active(group) and dist.get_world_size(group) > 1:
        dist.all_reduce(x, op=op, group=group)
    return x


def _check_int_target(target, name="target"):
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(target).__name__}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype {target.dtype}")


def local_normalizer(target, *, weight=None, ignore_index: int = -100, mask=None) -> torch.Tensor:
    r"""The count a mean divides by, for one micro-batch on one rank.

    For hard targets: the number of tokens whose target is not ``ignore_index``, or, with a
    per-class ``weight``, the sum :math:`\sum_n w_{y_n}` over those tokens (PyTorch's weighted
    mean). For a binary loss with a ``mask`` (``target`` floating): the number of observed
    entries; without a mask, the number of entries.

    Args:
        target: integer class indices ``(...)``, or a floating binary target (with ``mask``).
        weight: optional per-class weights ``(K,)`` (hard targets only), finite and >= 0.
        ignore_index: the target value that marks a token to skip (hard targets).
        mask: optional bool tensor of ``target``'s shape marking observed entries.

    Returns:
        A float64 scalar tensor on ``target``'s device.

    Raises:
        TypeError, ValueError: an argument of the wrong type, shape or value.

    Example:
        >>> import torch
        >>> from companion.distributed import local_normalizer
        >>> local_normalizer(torch.tensor([3, 1, -100, 0]))
        tensor(3., dtype=torch.float64)
    """
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if target.is_floating_point():
        if weight is not None:
            raise ValueError("weight is for hard (integer) targets; a binary target is counted "
                             "by its mask")
        if mask is None:
            return torch.tensor(float(target.numel()), dtype=torch.float64, device=target.device)
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise TypeError("mask must be a bool tensor")
        if mask.shape != target.shape:
            raise ValueError(f"mask has shape {tuple(mask.shape)} but target has shape "
                             f"{tuple(target.shape)}")
        return mask.sum(dtype=torch.float64)
    _check_int_target(target)
    if mask is not None:
        raise ValueError("mask is for binary targets; hard targets skip tokens by ignore_index")
    counted = target != ignore_index
    if weight is None:
        return counted.sum(dtype=torch.float64)
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point() or weight.dim() != 1:
        raise TypeError("weight must be a 1-D floating tensor of per-class weights")
    if not bool(torch.isfinite(weight).all()) or bool((weight < 0).any()):
        raise ValueError("weight must be finite and >= 0")
    idx = target[counted]
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= weight.numel()):
        raise ValueError(f"target has class indices outside [0, {weight.numel()}) that are "
                         f"not ignore_index={ignore_index}")
    return weight.to(torch.float64)[idx].sum()


def global_normalizer(local, *, group=None, average_gradients: bool = True) -> torch.Tensor:
    r"""The denominator that turns each rank's summed loss into the global mean.

    With :math:`c_r` the count of rank :math:`r` (summed over its accumulation steps) and
    :math:`R` the world size, the global mean is :math:`\sum_r S_r / \sum_r c_r`, where
    :math:`S_r` is the rank's ``reduction="sum"`` loss. Data-parallel training (DDP, FSDP)
    *averages* gradients over the ranks, so each rank must divide its sum by
    :math:`D = \sum_r c_r / R`; with ``average_gradients=False`` (gradients summed, or a
    single process) :math:`D = \sum_r c_r`.

    Args:
        local: this rank's count, a number or a scalar tensor (e.g. the sum of
            :func:`local_normalizer` over the accumulation steps).
        group: the data-parallel process group (default: the whole world). Without an
            initialised process group the world is this process alone.
        average_gradients: whether the gradients are averaged over the ranks (DDP's default).

    Returns:
        A float64 scalar tensor, the same on every rank. Zero when no rank counted anything;
        divide by ``D.clamp_min(1)`` or skip the step then.

    Example:
        >>> import torch
        >>> from companion.distributed import global_normalizer
        >>> global_normalizer(torch.tensor(42.0))  # a single process
        tensor(42., dtype=torch.float64)
    """
    if isinstance(local, torch.Tensor):
        if local.numel() != 1:
            raise ValueError(f"local must be a scalar, got shape {tuple(local.shape)}")
        total = local.detach().to(torch.float64).reshape(()).clone()
    elif isinstance(local, (int, float)) and not isinstance(local, bool):
        total = torch.tensor(float(local), dtype=torch.float64)
    else:
        raise TypeError(f"local must be a number or a scalar tensor, got {type(local).__name__}")
    if not bool(torch.isfinite(total)) or float(total) < 0:
        raise ValueError(f"local must be a finite count >= 0, got {float(total)}")
    if _active(group) and dist.get_backend(group) == "nccl" and total.device.type == "cpu":
        total = total.cuda()
    _all_reduce(total, dist.ReduceOp.SUM, group)
    return total / _world_size(group) if average_gradients else total


def _vocab_offsets(local_v: int, device, group) -> tuple[int, int]:
    """(start of this rank's slice, full vocabulary size): ranks hold slices in rank order."""
    world = _world_size(group)
    if world == 1:
        return 0, local_v
    sizes = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(world)]
    dist.all_gather(sizes, torch.tensor([local_v], dtype=torch.int64, device=device),
                    group=group)
    sizes = [int(s) for s in sizes]
    rank = _rank(group)
    return sum(sizes[:rank]), sum(sizes)


def _row_pieces(z, t, counted, start, vocab, smoothing, group):
    """Global per-row lse, target logit and (with smoothing) logit sum from a local slice."""
    n, v_r = z.shape
    m = torch.amax(z, 1) if v_r else torch.full((n,), -torch.inf, dtype=z.dtype,
                                                 device=z.device)
    m = _all_reduce(m, dist.ReduceOp.MAX, group)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    sum_exp = _all_reduce(_sum_exp(z, m), dist.ReduceOp.SUM, group)
    lse = m + sum_exp.log()
    local_t = t - start
    mine = counted & (local_t >= 0) & (local_t < v_r)
    safe = torch.where(mine, local_t, torch.zeros_like(local_t))
    z_t = (z.gather(1, safe.unsqueeze(1)).squeeze(1) if v_r else
           torch.zeros(n, dtype=z.dtype, device=z.device))
    z_t = _all_reduce(torch.where(mine, z_t, torch.zeros_like(z_t)), dist.ReduceOp.SUM, group)
    loss = lse - z_t
    if smoothing:
        sum_z = _all_reduce(z.sum(dim=1), dist.ReduceOp.SUM, group)
        loss = (1 - smoothing) * loss + smoothing * (lse - sum_z / vocab)
    return torch.where(counted, loss, torch.zeros_like(loss)), lse, safe, mine


def _sum_exp(z, m):
    """Per row, sum_k exp(z_nk - m_n), a block of rows at a time (C.row_sums): no (n, V_r)
    temporary."""
    return C.row_sums(z, lambda lo, hi, buf: torch.sub(z[lo:hi], m[lo:hi].unsqueeze(1),
                                                        out=buf).exp_())


def _slice_grad_(z, lse, safe, mine, smoothing, vocab, *, keep=False, row_scale=None):
    """``r_n (softmax(z_n) - (1 - a) onehot_n - a / V)`` on this slice (``r``: ``row_scale``,
    or 1), in place into z (the local logits), or with ``keep`` into a new tensor, z left as
    it is. On the CPU a block of rows at a time (C.row_blocks): each block's exponentials,
    shift and scale are taken while it is in cache."""
    n, v = z.shape
    g = torch.empty((n, v), dtype=z.dtype, device=z.device) if keep else z
    for lo, hi in C.row_blocks(n, v, z.device):
        b = torch.sub(z[lo:hi], lse[lo:hi].unsqueeze(1), out=g[lo:hi]).exp_()
        if smoothing:
            b.sub_(smoothing / vocab)
        if row_scale is not None:
            b.mul_(row_scale[lo:hi].unsqueeze(1))
    if v:
        hit = torch.full_like(lse, -(1.0 - smoothing))
        if row_scale is not None:
            hit = hit.mul_(row_scale)
        hit = torch.where(mine, hit, torch.zeros_like(hit))
        g.scatter_add_(1, safe.unsqueeze(1), hit.unsqueeze(1))
    return g


def _check_options(reduction, label_smoothing):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError(f"label_smoothing must be a number, got {type(label_smoothing).__name__}")
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")


def _counted_in_vocab(t, ignore_index, vocab):
    """The counted tokens; a counted target outside [0, V) is an error."""
    counted = t != ignore_index
    bad = counted & ((t < 0) | (t >= vocab))
    if bool(bad.any()):
        raise ValueError(f"target has class index {int(t[bad][0])} but the vocabulary has "
                         f"{vocab} classes across the group")
    return counted


def _reduce(loss, counted, shape, reduction, dtype):
    if reduction == "none":
        return loss.reshape(shape).to(dtype)
    total = loss.sum()
    if reduction == "sum":
        return total.to(dtype)
    return (total / counted.sum().clamp_min(1)).to(dtype)


class _VocabParallelCE(torch.autograd.Function):
    """Per-row loss from the local logit slice; backward needs no communication."""

    @staticmethod
    def forward(ctx, z, target, counted, start, vocab, smoothing, group):
        # z: (n, V_r) float32/64 local logits; target: (n,) global indices (ignored rows: any)
        loss, lse, safe, mine = _row_pieces(z, target, counted, start, vocab, smoothing, group)
        ctx.save_for_backward(z, lse, safe, mine, counted)
        ctx.smoothing, ctx.vocab = smoothing, vocab
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        if torch.is_grad_enabled():
            raise RuntimeError("vocab_parallel_cross_entropy does not support double backward "
                               "(create_graph=True): its gradient is computed in closed form")
        z, lse, safe, mine, counted = ctx.saved_tensors
        g = torch.where(counted, grad_loss, torch.zeros_like(grad_loss))
        return (_slice_grad_(z, lse, safe, mine, ctx.smoothing, ctx.vocab, keep=True,
                             row_scale=g), None, None, None, None, None, None)


def vocab_parallel_cross_entropy(local_logits, target, *, label_smoothing: float = 0.0,
                                 ignore_index: int = -100, reduction: str = "mean",
                                 group=None) -> torch.Tensor:
    r"""Softmax cross-entropy when each rank holds a contiguous slice of the vocabulary.

    Rank :math:`r` of ``group`` holds the logits :math:`z_{n,k}` for
    :math:`k \in [s_r, s_r + V_r)`, with the slices in rank order and any sizes (an uneven
    split is fine). With three all-reduces per call (a fourth for label smoothing),

    .. math::

        \begin{aligned}
        m_n &= \max_r \max_{k} z_{n,k}, \qquad
        S_n = \sum_r \sum_{k} e^{z_{n,k} - m_n}, \\
        \ell_n &= (1-\alpha)\,\bigl(m_n + \log S_n - z_{n,y_n}\bigr)
                 + \alpha\,\Bigl(m_n + \log S_n - \tfrac{1}{V}\sum_k z_{n,k}\Bigr),
        \end{aligned}

    equal to ``cross_entropy`` on the gathered ``(N, V)`` logits, which are never formed. The
    gradient on each slice, :math:`g_n\,(\operatorname{softmax}(z_n)_k - (1-\alpha)[k=y_n] -
    \alpha/V)`, needs no communication.

    Args:
        local_logits: ``(..., V_r)`` this rank's slice of the logits (any floating dtype; half
            precision is computed in float32). Every rank holds the same rows.
        target: ``(...)`` global class indices in ``[0, V)``, the same on every rank, or
            ``ignore_index``.
        label_smoothing: :math:`\alpha \in [0, 1]`, uniform over the full vocabulary.
        ignore_index: the target value of tokens to skip; they count in no sum.
        reduction: ``"mean"`` (over counted tokens; 0 when none), ``"sum"`` or ``"none"``.
        group: the tensor-parallel process group (default: the world; without an initialised
            process group, this process alone).

    Returns:
        The loss in ``local_logits``'s dtype: a scalar, or ``(...)`` for ``"none"``; the same
        value on every rank.

    Raises:
        TypeError, ValueError: bad arguments, or a target outside ``[0, V)``.
        RuntimeError: on double backward (``create_graph=True``), which is not supported.

    Example:
        >>> import torch, companion
        >>> from companion.distributed import vocab_parallel_cross_entropy
        >>> z, y = torch.randn(4, 10, dtype=torch.float64), torch.tensor([1, 9, 0, 3])
        >>> ours = vocab_parallel_cross_entropy(z, y)
        >>> torch.allclose(ours, companion.cross_entropy(z, y))
        True

    References:
        Shoeybi et al. (2019), *Megatron-LM: training multi-billion parameter language models
        using model parallelism*, https://arxiv.org/abs/1909.08053.

    See also:
        Chapter 13, "Training across processes".
    """
    if not isinstance(local_logits, torch.Tensor):
        raise TypeError(f"local_logits must be a torch.Tensor, got {type(local_logits).__name__}")
    if not local_logits.is_floating_point():
        raise TypeError(f"local_logits must be floating, got dtype {local_logits.dtype}")
    if local_logits.dim() < 1:
        raise ValueError("local_logits must have a vocabulary axis (..., V_r)")
    _check_int_target(target)
    if target.shape != local_logits.shape[:-1]:
        raise ValueError(f"target has shape {tuple(target.shape)} but local_logits have rows "
                         f"of shape {tuple(local_logits.shape[:-1])}")
    if target.device != local_logits.device:
        raise ValueError(f"target is on {target.device} but local_logits are on "
                         f"{local_logits.device}")
    _check_options(reduction, label_smoothing)
    dtype = local_logits.dtype
    work = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    v_r = local_logits.shape[-1]
    z = local_logits.reshape(-1, v_r).to(work)
    t = target.reshape(-1)
    start, vocab = _vocab_offsets(v_r, z.device, group)
    counted = _counted_in_vocab(t, ignore_index, vocab)
    if vocab == 0:
        raise ValueError("the vocabulary is empty on every rank")
    loss = _VocabParallelCE.apply(z, t, counted, start, vocab, float(label_smoothing), group)
    return _reduce(loss, counted, target.shape, reduction, dtype)


def _linear_chunks(h, w, b, t, counted, start, vocab, smoothing, chunk_size, group,
                   row_scale=None, need=(False, False, False)):
    """Per-row losses and, with ``row_scale``, the gradients of sum_n r_n loss_n, by chunks."""
    n = h.shape[0]
    need_h, need_w, need_b = need
    loss = torch.zeros(n, dtype=h.dtype, device=h.device)
    grad_h = torch.zeros_like(h) if need_h else None
    grad_w = torch.zeros_like(w) if need_w else None
    grad_b = None if b is None or not need_b else torch.zeros_like(b)
    for lo in range(0, n, chunk_size):
        hi = min(lo + chunk_size, n)
        h_c = h[lo:hi]
        z = h_c @ w.t() if b is None else torch.addmm(b, h_c, w.t())
        loss_c, lse, safe, mine = _row_pieces(z, t[lo:hi], counted[lo:hi], start, vocab,
                                              smoothing, group)
        loss[lo:hi] = loss_c
        if row_scale is None:
            continue
        # G = r_n (softmax - (1 - a) onehot - a / V) on this slice of the vocabulary
        r = torch.where(counted[lo:hi], row_scale[lo:hi], torch.zeros_like(lse))
        g = _slice_grad_(z, lse, safe, mine, smoothing, vocab, row_scale=r)
        if need_w:
            grad_w.addmm_(g.t(), h_c)
        if grad_b is not None:
            grad_b.add_(g.sum(0))
        if need_h:
            # each rank holds part of W: d/dh = sum over ranks of G_r W_r
            grad_h[lo:hi] = g @ w
    if need_h:
        _all_reduce(grad_h, dist.ReduceOp.SUM, group)
    return loss, grad_h, grad_w, grad_b


class _VocabParallelLinearCE(torch.autograd.Function):
    """Forward: losses chunk by chunk. Backward: the chunks again, with each row's weight."""

    @staticmethod
    def forward(ctx, h, w, b, t, counted, start, vocab, smoothing, chunk_size, group):
        ctx.save_for_backward(h, w, b, t, counted)
        ctx.args = (start, vocab, smoothing, chunk_size, group)
        return _linear_chunks(h, w, b, t, counted, start, vocab, smoothing, chunk_size,
                              group)[0]

    @staticmethod
    def backward(ctx, grad_loss):
        if torch.is_grad_enabled():
            raise RuntimeError("vocab_parallel_linear_cross_entropy does not support double "
                               "backward (create_graph=True)")
        h, w, b, t, counted = ctx.saved_tensors
        start, vocab, smoothing, chunk_size, group = ctx.args
        need = ctx.needs_input_grad[:3]
        _, g_h, g_w, g_b = _linear_chunks(h, w, b, t, counted, start, vocab, smoothing,
                                          chunk_size, group, row_scale=grad_loss, need=need)
        return g_h, g_w, g_b, None, None, None, None, None, None, None


def vocab_parallel_linear_cross_entropy(hidden, local_weight, target, *, local_bias=None,
                                        chunk_size: int = 4096, label_smoothing: float = 0.0,
                                        ignore_index: int = -100, reduction: str = "mean",
                                        group=None) -> torch.Tensor:
    r"""Cross-entropy of a vocabulary-sharded output layer, from the hidden states, by chunks.

    Rank :math:`r` holds rows :math:`[s_r, s_r + V_r)` of the output layer :math:`W`
    (``local_weight``, ``(V_r, H)``, in rank order, any split) and every rank holds the same
    ``hidden`` ``(..., H)``. For each chunk of ``chunk_size`` rows the local logits
    :math:`h W_r^\top` are formed and combined as in :func:`vocab_parallel_cross_entropy`
    (three all-reduces, four with label smoothing); the gradient with respect to ``hidden``,
    :math:`\sum_r G_r W_r`, takes one more all-reduce. The value and the gradients equal
    ``cross_entropy(hidden @ W.T + b, target)`` with the full :math:`W`, which no rank holds,
    and no rank holds more than a ``(chunk_size, V_r)`` block of logits. Backward recomputes
    the chunks (four matrix products per rank in all).

    Args:
        hidden: ``(..., H)`` floating, the same on every rank.
        local_weight: ``(V_r, H)`` this rank's rows of the output layer.
        target: ``(...)`` global class indices or ``ignore_index``, the same on every rank.
        local_bias: optional ``(V_r,)`` this rank's entries of the bias.
        chunk_size: rows per chunk (a positive int).
        label_smoothing, ignore_index, reduction, group: as in
            :func:`vocab_parallel_cross_entropy`.

    Returns:
        The loss in ``hidden``'s dtype (half precision computed in float32): a scalar, or
        ``(...)`` for ``"none"``; the same on every rank. The gradient reaching ``hidden`` is
        the full one on every rank; ``local_weight`` and ``local_bias`` get their own rows'.

    Raises:
        TypeError, ValueError: bad arguments; RuntimeError: double backward.

    Example:
        >>> import torch, companion
        >>> from companion.distributed import vocab_parallel_linear_cross_entropy
        >>> h = torch.randn(6, 4, dtype=torch.float64)
        >>> W = torch.randn(9, 4, dtype=torch.float64)
        >>> y = torch.tensor([0, 8, 3, 3, 1, 5])
        >>> ours = vocab_parallel_linear_cross_entropy(h, W, y, chunk_size=4)
        >>> torch.allclose(ours, companion.cross_entropy(h @ W.T, y))
        True

    See also:
        :func:`companion.chunked_linear_cross_entropy`, the single-device form; Chapter 13.
    """
    for name, x in (("hidden", hidden), ("local_weight", local_weight)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be floating, got dtype {x.dtype}")
    if hidden.dim() < 1 or local_weight.dim() != 2 or local_weight.shape[1] != hidden.shape[-1]:
        raise ValueError(f"local_weight has shape {tuple(local_weight.shape)} but hidden has "
                         f"shape {tuple(hidden.shape)}; local_weight must be (V_r, "
                         f"{hidden.shape[-1] if hidden.dim() else 'H'})")
    if local_weight.dtype != hidden.dtype:
        raise TypeError(f"local_weight has dtype {local_weight.dtype} but hidden has dtype "
                        f"{hidden.dtype}; they must be equal")
    if local_bias is not None and (not isinstance(local_bias, torch.Tensor)
                                   or local_bias.shape != (local_weight.shape[0],)):
        raise ValueError(f"local_bias must have shape ({local_weight.shape[0]},), one entry per "
                         "row of local_weight")
    _check_int_target(target)
    if target.shape != hidden.shape[:-1]:
        raise ValueError(f"target has shape {tuple(target.shape)} but hidden has rows of shape "
                         f"{tuple(hidden.shape[:-1])}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    _check_options(reduction, label_smoothing)
    dtype = hidden.dtype
    work = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    h = hidden.reshape(-1, hidden.shape[-1]).to(work)
    w = local_weight.to(work)
    b = None if local_bias is None else local_bias.to(work)
    t = target.reshape(-1)
    start, vocab = _vocab_offsets(w.shape[0], h.device, group)
    counted = _counted_in_vocab(t, ignore_index, vocab)
    loss = _VocabParallelLinearCE.apply(h, w, b, t, counted, start, vocab,
                                        float(label_smoothing), chunk_size, group)
    return _reduce(loss, counted, target.shape, reduction, dtype)
