"""Multi-task learning: homoscedastic uncertainty weighting and gradient conflict.

The book's Chapter 14.
"""
from __future__ import annotations

import torch

from . import _checks as C

__all__ = ["UncertaintyWeighting", "gradient_cosine"]


class UncertaintyWeighting(torch.nn.Module):
    r"""Learned task weights from homoscedastic uncertainty (Kendall, Gal and Cipolla).

    .. math::

        \mathcal L = \sum_{i=1}^{T} e^{-s_i} L_i + s_i,\qquad s_i = \log \sigma_i^2

    Each task's loss is scaled by its learned precision :math:`1/\sigma_i^2`, and the
    :math:`+ s_i` term stops :math:`\sigma_i` from growing without bound. For fixed losses the
    optimum is :math:`\sigma_i^2 = L_i`: a noisier task (larger irreducible loss) gets a larger
    :math:`\sigma_i` and so a smaller weight. Learning :math:`s_i` rather than :math:`\sigma_i`
    keeps the weight positive without constraints.

    Args:
        num_tasks: the number of tasks :math:`T \ge 1`.

    Attributes:
        log_var: ``(num_tasks,)`` parameter :math:`s`, initialised to zero (all weights 1).

    Example:
        >>> import torch
        >>> from companion import UncertaintyWeighting
        >>> weighting = UncertaintyWeighting(2)
        >>> round(weighting(torch.tensor([0.5, 2.0])).item(), 4)  # s = 0: the plain sum
        2.5
        >>> [round(w, 3) for w in weighting.weights().tolist()]
        [1.0, 1.0]

    References:
        Kendall, Gal and Cipolla (2018), *Multi-task learning using uncertainty to weigh losses
        for scene geometry and semantics*, https://arxiv.org/abs/1705.07115.

    See also:
        Chapter 14, multi-task learning.
    """

    def __init__(self, num_tasks):
        super().__init__()
        if isinstance(num_tasks, bool) or not isinstance(num_tasks, int) or num_tasks < 1:
            raise ValueError(f"num_tasks must be an int >= 1, got {num_tasks!r}")
        self.num_tasks = num_tasks
        self.log_var = torch.nn.Parameter(torch.zeros(num_tasks))

    def forward(self, losses):
        """Combine the per-task losses.

        Args:
            losses: ``(num_tasks,)`` tensor of scalar losses, or a sequence of ``num_tasks``
                scalar tensors.

        Returns:
            The scalar :math:`\\sum_i e^{-s_i} L_i + s_i`, in the dtype of the losses (half
            precision computed in float32).

        Raises:
            TypeError: ``losses`` is neither a floating tensor nor a sequence of them.
            ValueError: the number of losses is not ``num_tasks``.
        """
        if not isinstance(losses, torch.Tensor):
            if isinstance(losses, (list, tuple)) and all(isinstance(x, torch.Tensor) for x in losses):
                if any(x.numel() != 1 for x in losses):
                    raise ValueError("losses must be scalar tensors, one per task")
                losses = torch.stack([x.reshape(()) for x in losses])
            else:
                raise TypeError(f"losses must be a tensor or a sequence of scalar tensors, "
                                f"got {type(losses).__name__}")
        C.check_floating(losses, "losses")
        if losses.shape != (self.num_tasks,):
            raise ValueError(f"losses has shape {tuple(losses.shape)} but must have shape "
                             f"({self.num_tasks},), one loss per task")
        dtype = torch.promote_types(C.compute_dtype(losses), self.log_var.dtype)
        s = self.log_var.to(device=losses.device, dtype=dtype)
        total = (torch.exp(-s) * losses.to(dtype) + s).sum()
        return total.to(losses.dtype)

    def weights(self):
        """The current task weights :math:`e^{-s_i} = 1/\\sigma_i^2`, detached."""
        return torch.exp(-self.log_var.detach())

    def extra_repr(self):
        return f"num_tasks={self.num_tasks}"


def gradient_cosine(loss_a, loss_b, params):
    r"""Cosine between the gradients of two losses with respect to shared parameters.

    .. math::

        \cos(g_a, g_b) = \frac{g_a^\top g_b}{\lVert g_a\rVert\,\lVert g_b\rVert},\qquad
        g_a = \nabla_\theta L_a,\ g_b = \nabla_\theta L_b

    over all the parameters in ``params`` flattened into one vector. A negative value means the
    tasks conflict: a step that lowers one loss raises the other (to first order). The graphs
    are retained, so the losses can still be backpropagated afterwards. A parameter that a loss
    does not depend on contributes a zero gradient. When either gradient is exactly zero the
    cosine is undefined and 0 is returned.

    Args:
        loss_a, loss_b: scalar losses.
        params: an iterable of tensors that require grad (e.g. ``trunk.parameters()``).

    Returns:
        A scalar tensor in ``[-1, 1]`` (float32 or float64, as the gradients), detached.

    Raises:
        TypeError: a loss is not a tensor, or ``params`` holds something else than tensors.
        ValueError: a loss is not a scalar, or ``params`` is empty or holds a tensor that does
            not require grad.

    Example:
        >>> import torch
        >>> from companion import gradient_cosine
        >>> w = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> # gradients (2, 4) and (-1, -1)
        >>> round(gradient_cosine((w ** 2).sum(), -w.sum(), [w]).item(), 4)
        -0.9487

    References:
        Yu et al. (2020), *Gradient surgery for multi-task learning*,
        https://arxiv.org/abs/2001.06782.

    See also:
        Chapter 14, multi-task learning.
    """
    for name, loss in (("loss_a", loss_a), ("loss_b", loss_b)):
        C.check_floating(loss, name)
        if loss.numel() != 1:
            raise ValueError(f"{name} must be a scalar loss, got shape {tuple(loss.shape)}")
    params = list(params)
    if not params:
        raise ValueError("params must hold at least one tensor")
    for i, p in enumerate(params):
        if not isinstance(p, torch.Tensor):
            raise TypeError(f"params[{i}] must be a torch.Tensor, got {type(p).__name__}")
        if not p.requires_grad:
            raise ValueError(f"params[{i}] does not require grad; pass the shared parameters")
    grads = []
    for loss in (loss_a, loss_b):
        g = torch.autograd.grad(loss.reshape(()), params, retain_graph=True, allow_unused=True)
        # unused parameters get a zero gradient; accumulate in float32 at least
        flat = [torch.zeros(p.numel(), device=p.device, dtype=torch.promote_types(p.dtype, torch.float32))
                if gi is None else gi.reshape(-1).to(torch.promote_types(gi.dtype, torch.float32))
                for p, gi in zip(params, g)]
        grads.append(torch.cat([f.to(flat[0].device) for f in flat]))
    a, b = grads
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = a.to(dtype), b.to(dtype)
    norms = a.norm() * b.norm()
    return torch.where(norms > 0, (a @ b) / torch.where(norms > 0, norms, torch.ones_like(norms)),
                       torch.zeros_like(norms)).detach()
