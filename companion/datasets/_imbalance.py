"""Imbalanced Gaussian classes (Chapter 1)."""
from __future__ import annotations

import math

import torch

from ._common import make_generator


def imbalanced_blobs(n, priors, *, dim=2, means=None, std=1.0, spread=2.5, seed=None,
                     generator=None, dtype=None):
    r"""Gaussian classes with prescribed class frequencies.

    Class :math:`k` has exactly ``round(n * priors[k])`` examples (at least one), drawn from
    :math:`\mathcal N(\mu_k, \sigma^2 I)`. By default the means sit on a circle of radius
    ``spread`` (``dim >= 2``) or at ``0, spread, 2*spread, ...`` (``dim == 1``). The examples
    are shuffled.

    Args:
        n: total number of examples (approximately, after rounding per class).
        priors: ``(K,)`` class frequencies, positive, summing to one.
        dim: input dimension.
        means: optional ``(K, dim)`` class means, overriding ``spread``.
        std: the common standard deviation :math:`\sigma`.
        spread: distance scale of the default means.
        seed, generator: randomness (``seed`` defaults to 0).
        dtype: floating dtype of ``x`` (default: ``torch.get_default_dtype()``).

    Returns:
        ``(x, y)``: ``(N, dim)`` inputs and ``(N,)`` int64 labels.

    Example:
        >>> from companion.datasets import imbalanced_blobs
        >>> x, y = imbalanced_blobs(1000, [0.9, 0.1], seed=0)
        >>> tuple(x.shape), y.bincount().tolist()
        ((1000, 2), [900, 100])

    See also:
        Chapter 1, weighted cross-entropy and class imbalance.
    """
    priors = torch.as_tensor(priors, dtype=torch.float64)
    if priors.dim() != 1 or priors.numel() < 2:
        raise ValueError(f"priors must be a 1-D sequence of at least 2 class frequencies, got shape {tuple(priors.shape)}")
    if bool((priors <= 0).any()) or abs(float(priors.sum()) - 1.0) > 1e-6:
        raise ValueError("priors must be positive and sum to 1")
    if isinstance(n, bool) or not isinstance(n, int) or n < priors.numel():
        raise ValueError(f"n must be an int of at least {priors.numel()} (one example per class), got {n!r}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a positive int, got {dim!r}")
    g = make_generator(seed, generator)
    k = priors.numel()
    if means is None:
        if dim == 1:
            mu = spread * torch.arange(k, dtype=torch.float64)[:, None]
        else:
            angle = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
            mu = torch.zeros(k, dim, dtype=torch.float64)
            mu[:, 0], mu[:, 1] = spread * torch.cos(angle), spread * torch.sin(angle)
    else:
        mu = torch.as_tensor(means, dtype=torch.float64)
        if mu.shape != (k, dim):
            raise ValueError(f"means has shape {tuple(mu.shape)} but must have shape ({k}, {dim})")
    counts = torch.clamp((priors * n).round().long(), min=1)
    y = torch.repeat_interleave(torch.arange(k), counts)
    x = mu[y] + std * torch.randn(len(y), dim, generator=g, dtype=torch.float64)
    order = torch.randperm(len(y), generator=g)
    return x[order].to(dtype or torch.get_default_dtype()), y[order]
