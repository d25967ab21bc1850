"""Shared argument checks, the reductions every kernel uses, the elementwise kernels' blocks.

Every message names the argument and says what was expected, so that a user reading a traceback
knows which of their tensors to look at. Checks run before any computation.
"""
from __future__ import annotations

import math

import torch

REDUCTIONS = ("mean", "sum", "none")
_HALF = (torch.float16, torch.bfloat16)


def check_tensor(x, name: str) -> torch.Tensor:
    """Raise ``TypeError`` unless ``x`` is a ``torch.Tensor``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_floating(x, name: str) -> torch.Tensor:
    """Raise unless ``x`` is a floating-point tensor."""
    check_tensor(x, name)
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def check_logits(logits, name: str = "logits", *, min_dim: int = 1) -> torch.Tensor:
    """Floating tensor with a non-empty class axis last."""
    check_floating(logits, name)
    if logits.dim() < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimension(s) (class axis last), "
            f"got shape {tuple(logits.shape)}"
        )
    if min_dim >= 1 and logits.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one class, got shape {tuple(logits.shape)}")
    return logits


def check_reduction(reduction) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def check_same_device(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    if a.device != b.device:
        raise ValueError(f"{name_b} is on {b.device} but {name_a} is on {a.device}")


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_b} has shape {tuple(b.shape)} but {name_a} has shape {tuple(a.shape)}; "
            "they must be equal"
        )


def check_nonnegative_number(value, name: str, *, upper: float | None = None,
                             strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    ok = value > 0 if strict else value >= 0  # False for NaN
    if not ok:
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if upper is not None and value > upper:
        raise ValueError(f"{name} must be <= {upper}, got {value}")
    return value


def check_temperature(temperature) -> float:
    """A softmax temperature: a real number ``T > 0``."""
    return check_nonnegative_number(temperature, "temperature", strict=True)


def check_hard_target(logits: torch.Tensor, target, *, ignore_index: int | None = None,
                      name: str = "target", like_name: str = "logits") -> torch.Tensor:
    """Integer tensor of shape ``logits.shape[:-1]`` with entries in ``[0, K)`` or ``ignore_index``.

    ``like_name`` is the name of the caller's scores argument (``"probs"`` for the scores of
    :mod:`companion.scoring`), so that every message names the caller's own arguments.
    """
    hard_target_bounds(logits, target, ignore_index=ignore_index, name=name,
                       like_name=like_name)
    return target


def hard_target_bounds(logits: torch.Tensor, target, *, ignore_index: int | None = None,
                       name: str = "target", like_name: str = "logits"):
    """:func:`check_hard_target`, returning the smallest and largest entry of ``target``.

    ``(lo, hi)`` as Python ints, or None when ``target`` is empty. One reduction in the
    common case: when every entry lies in ``[0, K)`` nothing else needs looking at, and
    ``ignore_index`` occurs in ``target`` only if ``lo <= ignore_index <= hi``.
    """
    check_tensor(target, name)
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype {target.dtype}")
    if target.shape != logits.shape[:-1]:
        raise ValueError(
            f"{name} has shape {tuple(target.shape)} but {like_name} have shape "
            f"{tuple(logits.shape)}; a hard target must have shape {tuple(logits.shape[:-1])} "
            f"({like_name} without the class axis)"
        )
    check_same_device(like_name, logits, name, target)
    if target.numel() == 0:
        return None
    k = logits.shape[-1]
    lo, hi = (int(v) for v in torch.aminmax(target))
    if 0 <= lo and hi < k:
        return lo, hi
    # some entry is out of range: out of range for a counted entry, or the ignore_index
    counted = target if ignore_index is None else target[target != ignore_index]
    if counted.numel():
        c_lo, c_hi = (int(v) for v in torch.aminmax(counted))
        if c_hi >= k:
            raise ValueError(f"{name} has class index {c_hi} but {like_name} have {k} classes")
        if c_lo < 0:
            extra = "" if ignore_index is None else f" (ignore_index is {ignore_index})"
            raise ValueError(f"{name} has negative class index {c_lo}{extra}")
    return lo, hi


def check_soft_target(logits: torch.Tensor, target, *, name: str = "target",
                      like_name: str = "logits") -> torch.Tensor:
    """Floating tensor with the shape of ``logits`` whose entries lie in ``[0, 1]`` (no NaN)."""
    check_floating(target, name)
    if target.shape != logits.shape:
        raise ValueError(
            f"{name} has shape {tuple(target.shape)} but {like_name} have shape "
            f"{tuple(logits.shape)}; a soft target must have the shape of the {like_name}"
        )
    check_same_device(like_name, logits, name, target)
    check_unit_interval(target, name, what="soft targets are probabilities")
    return target


def check_unit_interval(x: torch.Tensor, name: str, *, what: str = "") -> torch.Tensor:
    """Every entry in ``[0, 1]`` (NaN and ±inf rejected), in one pass over ``x``.

    The upper bound allows a few units in the last place of ``x``'s dtype above 1, the rounding
    of a probability computed as a sum (e.g. ``lam * 1 + (1 - lam) * 1`` in mixup).
    """
    if x.numel():
        lo, hi = torch.aminmax(x.detach())  # NaN propagates into both, and fails both comparisons
        upper = 1.0 + 8.0 * torch.finfo(x.dtype).eps
        if not (bool(lo >= 0) and bool(hi <= upper)):
            extra = f" ({what})" if what else ""
            bad = "NaN" if bool(torch.isnan(lo)) else f"{float(lo)}" if not bool(lo >= 0) else f"{float(hi)}"
            raise ValueError(f"{name} must lie in [0, 1]{extra}, got an entry {bad}")
    return x


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """No NaN or ±inf in ``x``."""
    if x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return x


def check_nonnegative_tensor(x: torch.Tensor, name: str, *, strict: bool = False) -> torch.Tensor:
    """Every entry finite and ``>= 0`` (``> 0`` with ``strict``); NaN and ±inf rejected."""
    if x.numel():
        lo, hi = torch.aminmax(x.detach())
        ok = bool(lo > 0) if strict else bool(lo >= 0)  # False for NaN
        if not ok or not bool(torch.isfinite(hi)):
            bound = "positive" if strict else "non-negative"
            raise ValueError(f"{name} must be {bound} and finite, got an entry "
                             f"{float(hi) if ok else float(lo)}")
    return x


def check_mask(mask, like: torch.Tensor, name: str = "mask", like_name: str = "logits") -> torch.Tensor:
    """A boolean tensor with the shape and device of ``like``."""
    check_tensor(mask, name)
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a boolean tensor, got dtype {mask.dtype}")
    check_same_shape(like_name, like, name, mask)
    check_same_device(like_name, like, name, mask)
    return mask


def check_class_weight(weight, num_classes: int, *, name: str = "weight",
                       like: torch.Tensor | None = None) -> torch.Tensor | None:
    """``None`` or a non-negative floating ``(K,)`` tensor."""
    if weight is None:
        return None
    check_floating(weight, name)
    if weight.shape != (num_classes,):
        raise ValueError(
            f"{name} has shape {tuple(weight.shape)} but must have shape ({num_classes},), "
            f"one entry per class"
        )
    if like is not None:
        check_same_device("logits", like, name, weight)
    check_nonnegative_tensor(weight, name)
    return weight


def check_broadcastable_to(x, shape: torch.Size, name: str, target_name: str = "logits") -> None:
    """``x`` must broadcast to ``shape`` without changing it (no silent growth of the result)."""
    try:
        out = torch.broadcast_shapes(x.shape, shape)
    except RuntimeError:
        out = None
    if out != shape:
        raise ValueError(
            f"{name} has shape {tuple(x.shape)}, which does not broadcast to the shape "
            f"{tuple(shape)} of {target_name}"
        )


#: Elements per block of the kernels that run a batch a block at a time on the CPU: flattened
#: (binary cross-entropy, the reduced binary focal loss) or in whole rows (the row sums and
#: gradients of the entropy, the energy score and the vocabulary-parallel cross-entropy).
#: Each step of such a kernel is one PyTorch call, and each call costs a few microseconds
#: before it touches an element, so a block must be long enough for that to be small against
#: the work (at 2^16 elements it was a third of the binary cross-entropy's forward pass), and
#: short enough that the block's inputs and work buffers (1 MiB each in float32) stay in the
#: last-level cache, with no buffer of the batch's size allocated but the result (a fresh one
#: costs about as much in page faults as the transcendental function).
ELEMENT_BLOCK = 1 << 18

#: log2(e): exp(x) is taken as exp2(x * LOG2E) where PyTorch's exp2 is the cheaper (the CPU)
LOG2E = 1.0 / math.log(2.0)


def row_blocks(n: int, row_len: int, device) -> list:
    """``(start, stop)`` of blocks of rows of ``row_len`` elements: as many whole rows as fill
    ``ELEMENT_BLOCK`` (at least one) on the CPU, one block on an accelerator."""
    cpu = torch.device(device).type == "cpu"
    step = max(1, ELEMENT_BLOCK // max(row_len, 1)) if cpu else max(n, 1)
    return [(start, min(start + step, n)) for start in range(0, n, step)]


def element_blocks(n: int, device) -> list:
    """``(start, stop)`` of the blocks of a flattened batch of ``n`` elements: blocks of
    ``ELEMENT_BLOCK`` on the CPU, one block on an accelerator."""
    return row_blocks(n, 1, device)


def row_sums(x: torch.Tensor, fill) -> torch.Tensor:
    """Per row of ``x`` (n, K), the sum over K of ``fill(lo, hi, buf)``: ``fill`` writes an
    elementwise function of rows ``lo:hi`` into ``buf``, a (hi - lo, K) view of one scratch
    buffer, and returns it. A block of rows at a time (:func:`row_blocks`): on the CPU the
    block stays in cache and no (n, K) temporary is made."""
    n, k = x.shape
    out = torch.empty(n, dtype=x.dtype, device=x.device)
    blocks = row_blocks(n, k, x.device)
    if blocks:
        scratch = torch.empty(blocks[0][1] * k, dtype=x.dtype, device=x.device)
        for lo, hi in blocks:
            buf = scratch[: (hi - lo) * k].view(hi - lo, k)
            torch.sum(fill(lo, hi, buf), 1, out=out[lo:hi])
    return out


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """Half precision is computed in float32; other floating dtypes as they are."""
    return torch.float32 if x.dtype in _HALF else x.dtype


def reduce(loss: torch.Tensor, reduction: str, denominator: torch.Tensor | None = None) -> torch.Tensor:
    """Apply ``reduction`` to elementwise ``loss``.

    ``denominator`` is the mean's divisor (a count or a sum of weights). When it is zero the
    mean is 0 with zero gradient: the counted loss is then an empty sum, never 0/0.
    """
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if denominator is None:
        denominator = torch.tensor(float(loss.numel()), dtype=total.dtype, device=total.device)
    denominator = denominator.to(total.dtype)
    safe = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    return torch.where(denominator > 0, total / safe, torch.zeros_like(total))
