"""Ordinal data: ranks from a thresholded latent score (Chapter 5)."""
from __future__ import annotations

import math

import torch

from ._common import make_generator


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def _check_number(name, value, low=0.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
        raise ValueError(f"{name} must be a number >= {low}, got {value!r}")


def ordinal_data(n, *, num_classes=5, dim=2, noise=0.5, seed=None, generator=None,
                 dtype=None):
    r"""Ordered classes from a noisy latent score cut at fixed thresholds.

    .. math::

        x \sim \mathcal N(0, I_d),\quad s = w^\top x,\quad
        u = s + \sigma\varepsilon,\quad y = \#\{j : u > \theta_j\}

    with :math:`w` a fixed unit vector (weights :math:`1, \tfrac12, \tfrac13, \dots`,
    normalised) and thresholds :math:`\theta_j = \sqrt{1+\sigma^2}\,\Phi^{-1}(j/K)`, so that the
    :math:`K` ranks are equally frequent on average. Neighbouring ranks overlap and distant ranks
    do not: the setting where a near miss should cost less than a far one.

    Args:
        n: number of examples.
        num_classes: :math:`K \ge 2` ranks.
        dim: input dimension :math:`d \ge 1`.
        noise: :math:`\sigma \ge 0`, the label noise on the latent score.
        seed, generator: randomness (``seed`` defaults to 0).
        dtype: floating dtype of ``x`` (default ``torch.get_default_dtype()``).

    Returns:
        ``(x, y, score)``: ``(n, dim)`` inputs, ``(n,)`` int64 ranks in ``[0, K)`` and the
        ``(n,)`` noise-free latent score :math:`s` (float64).

    Example:
        >>> from companion.datasets import ordinal_data
        >>> x, y, s = ordinal_data(2000, num_classes=5, seed=0)
        >>> tuple(x.shape), y.min().item(), y.max().item()
        ((2000, 2), 0, 4)

    See also:
        Chapter 5, ordinal classification.
    """
    _check_int("n", n, 1)
    _check_int("num_classes", num_classes, 2)
    _check_int("dim", dim, 1)
    _check_number("noise", noise)
    g = make_generator(seed, generator)
    w = 1.0 / torch.arange(1, dim + 1, dtype=torch.float64)
    w = w / w.norm()
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    score = x @ w
    latent = score + noise * torch.randn(n, generator=g, dtype=torch.float64)
    # Phi^{-1}(j/K) = sqrt(2) erfinv(2j/K - 1); the latent has variance 1 + noise^2
    q = torch.arange(1, num_classes, dtype=torch.float64) / num_classes
    thresholds = math.sqrt(1.0 + noise**2) * math.sqrt(2.0) * torch.erfinv(2 * q - 1)
    y = (latent[:, None] > thresholds).sum(-1)
    return x.to(dtype or torch.get_default_dtype()), y, score
