"""Softened targets: label smoothing, ordinal smoothing and mixup.

The book's Chapter 3 (soft labels and label smoothing), Chapter 4 (mixup) and Chapter 5
(ordinal classification). Every function here builds a target distribution; the loss is then
``companion.cross_entropy`` with that soft target.
"""
from __future__ import annotations

import numpy as np
import torch

from . import _checks as C

__all__ = ["smooth_labels", "ordinal_smooth_labels", "mixup"]


def _check_num_classes(num_classes, *, low: int = 1) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < low:
        raise ValueError(f"num_classes must be an int >= {low}, got {num_classes!r}")
    return num_classes


def _check_index_target(target, num_classes: int) -> torch.Tensor:
    """Integer tensor of class indices in ``[0, num_classes)``."""
    C.check_tensor(target, "target")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
    if target.numel():
        lo, hi = int(target.min()), int(target.max())
        if hi >= num_classes:
            raise ValueError(f"target has class index {hi} but num_classes is {num_classes}")
        if lo < 0:
            raise ValueError(f"target has negative class index {lo}")
    return target


def _out_dtype(dtype) -> torch.dtype:
    if dtype is None:
        return torch.get_default_dtype()
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    return dtype


def smooth_labels(target, num_classes, alpha, *, dtype=None):
    r"""Label smoothing: mix the target with the uniform distribution.

    .. math::

        y^{\alpha} = (1-\alpha)\, y + \frac{\alpha}{K}\mathbf 1

    where :math:`y` is the one-hot vector of a hard target or a soft target's probabilities.
    ``cross_entropy(logits, smooth_labels(t, K, a))`` equals
    ``cross_entropy(logits, t, label_smoothing=a)``.

    Args:
        target: ``(...)`` integer class indices, or ``(..., K)`` probabilities (floating).
        num_classes: :math:`K`; for a soft target it must equal ``target.shape[-1]``.
        alpha: :math:`\alpha \in [0, 1]`; 0 leaves the target unchanged, 1 gives the uniform
            distribution.
        dtype: floating dtype of the result for a hard target (default
            ``torch.get_default_dtype()``); a soft target keeps its own dtype.

    Returns:
        ``(..., K)`` probabilities on the device of ``target``.

    Raises:
        TypeError: ``target`` is not a tensor, or ``alpha`` is not a number.
        ValueError: a class index lies outside ``[0, K)``, a soft target's last axis is not
            ``K`` or an entry leaves ``[0, 1]`` (NaN included), or ``alpha`` lies outside
            ``[0, 1]``.

    Example:
        >>> import torch
        >>> from companion import smooth_labels
        >>> smooth_labels(torch.tensor([0, 2]), 3, 0.3)
        tensor([[0.8000, 0.1000, 0.1000],
                [0.1000, 0.1000, 0.8000]])

    References:
        Szegedy et al. (2016), *Rethinking the Inception architecture for computer vision*,
        https://arxiv.org/abs/1512.00567.

    See also:
        Chapter 3, soft labels and label smoothing.
    """
    C.check_tensor(target, "target")
    k = _check_num_classes(num_classes)
    a = C.check_nonnegative_number(alpha, "alpha", upper=1.0)
    if target.is_floating_point():
        if target.dim() == 0 or target.shape[-1] != k:
            raise ValueError(
                f"target has shape {tuple(target.shape)}; a soft target must have num_classes={k} "
                "entries on its last axis"
            )
        C.check_unit_interval(target, "target", what="soft targets are probabilities")
        y = target.to(C.compute_dtype(target))
        return ((1.0 - a) * y + a / k).to(target.dtype)
    _check_index_target(target, k)
    out = _out_dtype(dtype)
    # built in float32 at least, so that alpha / K is not rounded before the final cast
    y = torch.nn.functional.one_hot(target.long(), k).to(torch.promote_types(out, torch.float32))
    return ((1.0 - a) * y + a / k).to(out)


def _ordinal_matrix(k: int, eps: float, dtype, device) -> torch.Tensor:
    """Row t is the ordinal-smoothed target of rank t; built once, then indexed by the targets."""
    eye = torch.eye(k, dtype=dtype, device=device)
    # neighbours[t, j] = 1 when |t - j| = 1
    neighbours = torch.diag(torch.ones(k - 1, dtype=dtype, device=device), 1)
    neighbours = neighbours + neighbours.T
    # an interior rank shares eps between two neighbours, an edge rank gives it to its only one
    share = eps / neighbours.sum(-1, keepdim=True)
    return (1.0 - eps) * eye + share * neighbours


def ordinal_smooth_labels(target, num_classes, eps, *, dtype=None):
    r"""Ordinal label smoothing: move mass :math:`\varepsilon` to the neighbouring ranks only.

    .. math::

        y^{\varepsilon}_j = \begin{cases}
            1-\varepsilon & j = t\\
            \varepsilon/2 & |j-t| = 1,\ 0 < t < K-1\\
            \varepsilon & |j-t| = 1,\ t \in \{0, K-1\}\\
            0 & \text{otherwise}
        \end{cases}

    Unlike uniform smoothing, a near miss (predicting rank :math:`t \pm 1`) is cheaper than a
    far one, because only the adjacent ranks receive target mass.

    Args:
        target: ``(...)`` integer ranks in ``[0, K)``.
        num_classes: :math:`K \ge 2`.
        eps: :math:`\varepsilon \in [0, 1]`.
        dtype: floating dtype of the result (default ``torch.get_default_dtype()``).

    Returns:
        ``(..., K)`` probabilities on the device of ``target``; every row sums to one.

    Raises:
        TypeError: ``target`` is not an integer tensor, or ``dtype`` is not floating.
        ValueError: a rank lies outside ``[0, K)``, ``num_classes < 2``, or ``eps`` lies outside
            ``[0, 1]``.

    Example:
        >>> import torch
        >>> from companion import ordinal_smooth_labels
        >>> ordinal_smooth_labels(torch.tensor([0, 2]), 4, 0.2)
        tensor([[0.8000, 0.2000, 0.0000, 0.0000],
                [0.0000, 0.1000, 0.8000, 0.1000]])

    References:
        The neighbour-only smoothing of ordinal labels is a common variant of Szegedy et al.
        (2016); see e.g. Diaz and Marathe (2019), *Soft labels for ordinal regression*,
        https://openaccess.thecvf.com/content_CVPR_2019/html/Diaz_Soft_Labels_for_Ordinal_Regression_CVPR_2019_paper.html.

    See also:
        Chapter 5, ordinal classification.
    """
    k = _check_num_classes(num_classes, low=2)
    e = C.check_nonnegative_number(eps, "eps", upper=1.0)
    _check_index_target(target, k)
    out = _out_dtype(dtype)
    table = _ordinal_matrix(k, e, torch.float64, target.device)
    return table[target.long()].to(out)


def _draw_mixup(n: int, alpha: float, generator):
    """The mixing weight and the partner permutation; numpy's Beta sampler, seeded from torch."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha)) if alpha > 0 else 1.0
    perm = torch.randperm(n, generator=generator)
    return lam, perm


def mixup(x, y, alpha, *, generator=None):
    r"""Mixup: convex combinations of pairs of examples and of their target distributions.

    .. math::

        \tilde x = \lambda x_i + (1-\lambda) x_{\pi(i)},\qquad
        \tilde y = \lambda y_i + (1-\lambda) y_{\pi(i)},\qquad
        \lambda \sim \operatorname{Beta}(\alpha, \alpha)

    One :math:`\lambda` is drawn per call (per batch), as in Zhang et al., and :math:`\pi` is a
    uniformly random permutation of the batch. ``alpha = 0`` means no mixing
    (:math:`\lambda = 1`). Train with ``cross_entropy(model(x_mixed), y_mixed)``.

    Args:
        x: ``(N, ...)`` floating inputs.
        y: ``(N, K)`` target probabilities (one-hot rows for hard labels; see
            :func:`smooth_labels` with ``alpha=0`` to build them).
        alpha: the Beta parameter :math:`\alpha \ge 0`.
        generator: optional CPU ``torch.Generator`` for :math:`\lambda` and :math:`\pi`; the
            global generator is used otherwise.

    Returns:
        ``(x_mixed, y_mixed, lam)``: tensors shaped like ``x`` and ``y`` (in their dtypes and
        on their devices) and :math:`\lambda` as a Python float.

    Raises:
        TypeError: ``x`` or ``y`` is not a floating tensor, or ``generator`` is not a
            ``torch.Generator``.
        ValueError: ``y`` is not ``(N, K)`` with the batch size of ``x``, holds entries
            outside ``[0, 1]`` or NaN, or ``alpha`` is negative or infinite.

    Example:
        >>> import torch
        >>> from companion import mixup
        >>> x = torch.tensor([[0.0], [1.0]])
        >>> y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> xm, ym, lam = mixup(x, y, 0.4, generator=torch.Generator().manual_seed(0))
        >>> # here x is the class-1 probability
        >>> bool(torch.allclose(xm[:, 0], ym[:, 1]))
        True

    References:
        Zhang et al. (2018), *mixup: Beyond empirical risk minimization*,
        https://arxiv.org/abs/1710.09412.

    See also:
        Chapter 4, mixup.
    """
    C.check_floating(x, "x")
    C.check_floating(y, "y")
    a = C.check_nonnegative_number(alpha, "alpha")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if x.dim() < 1 or x.shape[0] == 0:
        raise ValueError(f"x must have a non-empty batch axis first, got shape {tuple(x.shape)}")
    if y.dim() != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"y has shape {tuple(y.shape)} but must be (N, K) probabilities with N = {x.shape[0]}, "
            "the batch size of x"
        )
    C.check_same_device("x", x, "y", y)
    C.check_unit_interval(y, "y", what="targets are probabilities")
    lam, perm = _draw_mixup(x.shape[0], a, generator)
    perm = perm.to(x.device)
    # computed in float32 for half inputs, so that lam is not rounded to the input's precision
    xc, yc = x.to(C.compute_dtype(x)), y.to(C.compute_dtype(y))
    x_mixed = lam * xc + (1.0 - lam) * xc[perm]
    y_mixed = lam * yc + (1.0 - lam) * yc[perm]
    return x_mixed.to(x.dtype), y_mixed.to(y.dtype), lam
