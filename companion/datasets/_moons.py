"""Two interleaved half-moons, a 2-D set with a curved class boundary (Chapters 2 and 4)."""
from __future__ import annotations

import math

import torch

from ._common import make_generator


def two_moons(n, *, noise=0.1, seed=None, generator=None, dtype=None):
    r"""Two interleaving half circles in the plane, one per class.

    .. math::

        x^{(0)} = (\cos t,\ \sin t),\qquad x^{(1)} = (1 - \cos t,\ \tfrac12 - \sin t),
        \qquad t \sim \mathcal U[0, \pi]

    plus isotropic Gaussian noise of standard deviation ``noise``. Class 0 gets
    ``n - n // 2`` points and class 1 gets ``n // 2``; the examples are shuffled. Small enough
    for full-batch training, curved enough that a decision boundary is worth plotting.

    Args:
        n: number of points (at least 2).
        noise: standard deviation of the Gaussian noise (``>= 0``).
        seed, generator: randomness (``seed`` defaults to 0).
        dtype: floating dtype of ``x`` (default ``torch.get_default_dtype()``).

    Returns:
        ``(x, y)``: ``(n, 2)`` points and ``(n,)`` int64 labels in {0, 1}.

    Example:
        >>> from companion.datasets import two_moons
        >>> x, y = two_moons(501, noise=0.1, seed=0)
        >>> tuple(x.shape), y.bincount().tolist()
        ((501, 2), [251, 250])

    See also:
        Chapter 4, mixup (decision boundaries with and without mixing).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    g = make_generator(seed, generator)
    n1 = n // 2
    y = torch.cat([torch.zeros(n - n1, dtype=torch.long), torch.ones(n1, dtype=torch.long)])
    t = math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    upper = torch.stack([torch.cos(t), torch.sin(t)], -1)
    lower = torch.stack([1.0 - torch.cos(t), 0.5 - torch.sin(t)], -1)
    x = torch.where(y[:, None] == 0, upper, lower)
    x = x + noise * torch.randn(n, 2, generator=g, dtype=torch.float64)
    order = torch.randperm(n, generator=g)
    return x[order].to(dtype or torch.get_default_dtype()), y[order]
