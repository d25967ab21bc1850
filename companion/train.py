"""Full-batch training helpers shared by the book's chapters.

The chapters fit small models (linear heads, tiny MLPs, free logits) to a few thousand points.
For that size full-batch L-BFGS with a strong-Wolfe line search reaches the optimum in a few
dozen iterations and, started from a fixed point, gives the same answer on every run; these
helpers hold that loop once so that a chapter shows only its loss.

See also: every chapter of the book; Chapter 1 introduces the pattern.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

__all__ = ["fit", "fit_linear"]


def _parameters(params) -> list[torch.Tensor]:
    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    elif isinstance(params, torch.Tensor):
        params = [params]
    if not isinstance(params, Iterable):
        raise TypeError("params must be a torch.nn.Module, a tensor or an iterable of tensors, "
                        f"got {type(params).__name__}")
    out = list(params)
    if not out:
        raise ValueError("params is empty: there is nothing to fit")
    for i, p in enumerate(out):
        if not isinstance(p, torch.Tensor):
            raise TypeError(f"params[{i}] must be a tensor, got {type(p).__name__}")
        if not p.requires_grad:
            raise ValueError(f"params[{i}] does not require grad: nothing would be fitted")
    return out


def fit(params, objective: Callable[[], torch.Tensor], *, max_iter: int = 200,
        weight_decay: float = 0.0, tolerance_grad: float = 1e-9,
        tolerance_change: float = 1e-12) -> float:
    r"""Minimise ``objective()`` over ``params`` with full-batch L-BFGS; return the final loss.

    .. math::

        \hat\theta = \arg\min_\theta\; L(\theta) + \tfrac{\lambda}{2}\,\lVert\theta\rVert^2

    Args:
        params: a ``torch.nn.Module``, a tensor or an iterable of tensors that require grad;
            they are updated in place.
        objective: a callable with no arguments that returns the scalar loss at the current
            parameters (it is re-evaluated by the line search, so it must not draw new
            randomness).
        max_iter: maximum number of L-BFGS iterations (default 200).
        weight_decay: :math:`\lambda \ge 0`, an L2 penalty on every parameter, added to the
            objective (default 0).
        tolerance_grad, tolerance_change: L-BFGS stopping tolerances.

    Returns:
        float: the objective (without the penalty) at the returned parameters.

    Raises:
        TypeError: ``params`` holds something that is not a tensor, or ``objective`` is not
            callable.
        ValueError: ``params`` is empty or holds a tensor that does not require grad, a
            hyperparameter is out of range, or the objective is not a finite scalar.

    Example:
        >>> import torch
        >>> from companion.train import fit
        >>> theta = torch.zeros(2, requires_grad=True)
        >>> round(fit(theta, lambda: ((theta - torch.tensor([1., -2.])) ** 2).sum()), 8)
        0.0
        >>> [round(v, 4) for v in theta.tolist()]
        [1.0, -2.0]

    See also:
        :func:`fit_linear`, which builds and fits a linear model with this loop.
    """
    ps = _parameters(params)
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    if not isinstance(max_iter, int) or isinstance(max_iter, bool) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    weight_decay = float(weight_decay)
    if not weight_decay >= 0.0 or weight_decay == float("inf"):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    opt = torch.optim.LBFGS(ps, lr=1, max_iter=max_iter, tolerance_grad=tolerance_grad,
                            tolerance_change=tolerance_change, line_search_fn="strong_wolfe")

    def penalised() -> torch.Tensor:
        loss = objective()
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("objective must return a scalar tensor, got "
                             f"{type(loss).__name__} of shape {getattr(loss, 'shape', None)}")
        if not torch.isfinite(loss.detach()).all():
            raise ValueError(f"objective returned a non-finite loss ({loss.item()})")
        if weight_decay:
            loss = loss + 0.5 * weight_decay * sum((p * p).sum() for p in ps)
        return loss

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = penalised()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(objective())


def fit_linear(x: torch.Tensor, target: torch.Tensor,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *,
               out_features: int | None = None, bias: bool = True, max_iter: int = 200,
               weight_decay: float = 0.0) -> torch.nn.Linear:
    r"""Fit a linear model ``z = x @ W.T + b`` by minimising ``loss_fn(z, target)``.

    The weights start at zero, so the fit is deterministic. With ``out_features=1`` the model's
    output keeps its trailing axis of size 1; pass ``lambda z, y: loss(z.squeeze(-1), y)`` for
    a binary loss that expects ``(N,)`` logits.

    Args:
        x: ``(N, D)`` floating inputs.
        target: whatever ``loss_fn`` expects as its second argument (class indices, soft
            targets, binary labels).
        loss_fn: ``loss_fn(logits, target)`` returning a scalar.
        out_features: the number of outputs. Default: ``target.shape[-1]`` for a floating
            ``target`` of the same rank as ``x`` (soft targets, multi-label), otherwise
            ``int(target.max()) + 1`` for integer class indices; give it explicitly when a
            class may be absent from ``target``.
        bias: whether the model has a bias (default True).
        max_iter, weight_decay: as in :func:`fit` (the penalty covers the bias too).

    Returns:
        torch.nn.Linear: the fitted model, in ``x``'s dtype, with ``requires_grad`` turned off.

    Raises:
        TypeError: ``x`` is not a floating tensor.
        ValueError: ``x`` is not 2-D, or ``out_features`` cannot be inferred or is below 1.

    Example:
        >>> import torch, companion
        >>> from companion.train import fit_linear
        >>> x = torch.tensor([[-2.], [-1.], [1.], [2.]], dtype=torch.float64)
        >>> y = torch.tensor([0, 1, 0, 1])
        >>> model = fit_linear(x, y, companion.cross_entropy)
        >>> model.weight.shape
        torch.Size([2, 1])

    See also:
        Chapter 1, where the weighted losses are fitted this way.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating torch.Tensor, got {getattr(x, 'dtype', type(x))}")
    if x.dim() != 2:
        raise ValueError(f"x must be 2-D (N, D), got shape {tuple(x.shape)}")
    if out_features is None:
        if target.is_floating_point() and target.dim() == x.dim():
            out_features = target.shape[-1]
        elif not target.is_floating_point() and target.numel() > 0:
            out_features = int(target.max()) + 1
        else:
            raise ValueError("out_features could not be inferred from target of shape "
                             f"{tuple(target.shape)} and dtype {target.dtype}; pass it")
    if not isinstance(out_features, int) or out_features < 1:
        raise ValueError(f"out_features must be a positive integer, got {out_features!r}")
    model = torch.nn.Linear(x.shape[1], out_features, bias=bias, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    fit(model, lambda: loss_fn(model(x), target), max_iter=max_iter, weight_decay=weight_decay)
    model.requires_grad_(False)
    return model
