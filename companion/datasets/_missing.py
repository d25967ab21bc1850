"""Two-label data with labels missing not at random (Chapter 10)."""
from __future__ import annotations

import math

import torch

from ._common import make_generator


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def missing_multilabel(n, *, dim=4, base_missing=0.2, biased_missing=0.7, seed=None,
                       generator=None, dtype=None):
    r"""Two labels A and B, independent given x, where A's positives go missing when B is present.

    .. math::

        x \sim \mathcal N(0, I_d),\quad P(A = 1 \mid x) = \sigma(w_A^\top x),\quad
        P(B = 1 \mid x) = \sigma(w_B^\top x),\quad A \perp B \mid x

    Every label is unobserved with probability ``base_missing``, except a positive A whose
    example also has B = 1: it is unobserved with probability ``biased_missing``. Masked BCE
    on the observed labels then sees too few A-positives among B-positive examples, and a
    model that can see B learns a negative A-B dependence that is not in the data.

    Args:
        n: number of examples.
        dim: input dimension :math:`d \ge 2`.
        base_missing: probability that a label is unobserved, in ``[0, 1)``.
        biased_missing: probability that a positive A is unobserved when B = 1, in ``[0, 1)``.
        seed, generator: randomness (``seed`` defaults to 0).
        dtype: floating dtype of ``x``, ``y`` and ``marginals`` (default
            ``torch.get_default_dtype()``).

    Returns:
        ``(x, y, mask, marginals)``: ``(n, dim)`` inputs, ``(n, 2)`` true labels in {0, 1}
        (column 0 is A, column 1 is B), the ``(n, 2)`` boolean mask of observed labels and the
        ``(n, 2)`` true probabilities :math:`P(A=1\mid x), P(B=1\mid x)`.

    Example:
        >>> from companion.datasets import missing_multilabel
        >>> x, y, mask, m = missing_multilabel(2000, seed=0)
        >>> tuple(y.shape), mask.dtype
        ((2000, 2), torch.bool)

    See also:
        Chapter 10, missing labels.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
        raise ValueError(f"dim must be an int >= 2, got {dim!r}")
    base, biased = _rate("base_missing", base_missing), _rate("biased_missing", biased_missing)
    g = make_generator(seed, generator)
    w = torch.zeros(2, dim, dtype=torch.float64)
    w[0, 0], w[1, 1] = 2.0, 2.0  # A reads the first input, B the second
    w[:, 2:] = 0.5 * torch.randn(2, dim - 2, generator=g, dtype=torch.float64) / math.sqrt(max(dim - 2, 1))
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    marginals = torch.sigmoid(x @ w.T)
    y = (torch.rand(n, 2, generator=g, dtype=torch.float64) < marginals).to(torch.float64)
    p_missing = torch.full((n, 2), base, dtype=torch.float64)
    p_missing[:, 0] = torch.where((y[:, 0] == 1) & (y[:, 1] == 1), torch.tensor(biased, dtype=torch.float64),
                                  p_missing[:, 0])
    mask = torch.rand(n, 2, generator=g, dtype=torch.float64) >= p_missing
    out = dtype or torch.get_default_dtype()
    return x.to(out), y.to(out), mask, marginals.to(out)
