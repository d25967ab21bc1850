"""Shared argument checks and the reductions every kernel uses.

Every message names the argument and says what was expected, so that a user reading a traceback
knows which of their tensors to look at. Checks run before any computation.
"""
from __future__ import annotations

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
    ok = value > 0 if strict else value >= 0
    if not ok or value != value:
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    if upper is not None and value > upper:
        raise ValueError(f"{name} must be <= {upper}, got {value}")
    return value


def check_temperature(temperature) -> float:
    """A softmax temperature: a real number ``T > 0``."""
    return check_nonnegative_number(temperature, "temperature", strict=True)


def check_hard_target(logits: torch.Tensor, target, *, ignore_index: int | None = None,
                      name: str = "target") -> torch.Tensor:
    """Integer tensor of shape ``logits.shape[:-1]`` with entries in ``[0, K)`` or ``ignore_index``."""
    check_tensor(target, name)
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype {target.dtype}")
    if target.shape != logits.shape[:-1]:
        raise ValueError(
            f"{name} has shape {tuple(target.shape)} but logits have shape {tuple(logits.shape)}; "
            f"a hard target must have shape {tuple(logits.shape[:-1])} (logits without the class axis)"
        )
    check_same_device("logits", logits, name, target)
    k = logits.shape[-1]
    counted = target if ignore_index is None else target[target != ignore_index]
    if counted.numel():
        lo, hi = int(counted.min()), int(counted.max())
        if hi >= k:
            raise ValueError(f"{name} has class index {hi} but logits have {k} classes")
        if lo < 0:
            extra = "" if ignore_index is None else f" (ignore_index is {ignore_index})"
            raise ValueError(f"{name} has negative class index {lo}{extra}")
    return target


def check_soft_target(logits: torch.Tensor, target, *, name: str = "target") -> torch.Tensor:
    """Floating tensor with the shape of ``logits`` whose rows are probability vectors."""
    check_floating(target, name)
    if target.shape != logits.shape:
        raise ValueError(
            f"{name} has shape {tuple(target.shape)} but logits have shape {tuple(logits.shape)}; "
            "a soft target must have the shape of the logits"
        )
    check_same_device("logits", logits, name, target)
    if target.numel() and bool((target < 0).any()):
        raise ValueError(f"{name} holds negative probabilities; soft targets must lie in [0, 1]")
    return target


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
    if bool((weight < 0).any()):
        raise ValueError(f"{name} must be non-negative")
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
