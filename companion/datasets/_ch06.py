"""Correlated multi-label data (Chapter 6)."""
from __future__ import annotations

import math

import torch

from ._common import make_generator


def correlated_multilabel(n, *, num_labels=5, dim=8, rho=0.6, seed=None, generator=None,
                          dtype=torch.float32):
    r"""Multi-label data whose labels are correlated given the input (a latent-threshold model).

    .. math::

        \begin{aligned}
        x &\sim \mathcal N(0, I_d),\qquad u = W x + b + \varepsilon,\qquad
        y_k = \mathbb 1[u_k > 0],\\
        \varepsilon &\sim \mathcal N\bigl(0,\, (1-\rho) I_K + \rho\,\mathbf 1\mathbf 1^\top\bigr)
        \end{aligned}

    Every pair of labels is positively correlated given :math:`x` when :math:`\rho > 0`, so the
    labels are *not* conditionally independent, while each label's true marginal is the probit
    :math:`m_k(x) = P(y_k = 1 \mid x) = \Phi\bigl((W x + b)_k\bigr)`. The weights :math:`W` are
    drawn with scale :math:`1/\sqrt d`; the biases run from 0.8 down to -1.0, so the labels
    range from common to rare.

    Args:
        n: number of examples.
        num_labels: :math:`K`, at least 2.
        dim: input dimension :math:`d`.
        rho: the noise correlation :math:`\rho \in [0, 1)`.
        seed, generator: randomness (``seed`` defaults to 0); :math:`W`, the inputs and the
            labels all come from it.
        dtype: floating dtype of ``x`` and ``marginals``.

    Returns:
        ``(x, y, marginals)``: ``(n, dim)`` inputs, ``(n, K)`` float labels in {0, 1}, and the
        ``(n, K)`` true marginals :math:`m_k(x)`.

    Example:
        >>> from companion.datasets import correlated_multilabel
        >>> x, y, m = correlated_multilabel(1000, seed=0)
        >>> tuple(x.shape), tuple(y.shape), bool(((m >= 0) & (m <= 1)).all())
        ((1000, 8), (1000, 5), True)

    See also:
        Chapter 6, multi-label classification.
    """
    for name, value, low in (("n", n, 1), ("num_labels", num_labels, 2), ("dim", dim, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 <= rho < 1:
        raise ValueError(f"rho must be a number in [0, 1), got {rho!r}")
    g = make_generator(seed, generator)
    k = num_labels
    w = torch.randn(k, dim, generator=g, dtype=torch.float64) * (1.5 / math.sqrt(dim))
    b = torch.linspace(0.8, -1.0, k, dtype=torch.float64)
    cov = (1 - rho) * torch.eye(k, dtype=torch.float64) + rho
    chol = torch.linalg.cholesky(cov)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    mean = x @ w.T + b
    u = mean + torch.randn(n, k, generator=g, dtype=torch.float64) @ chol.T
    y = (u > 0).to(dtype)
    # the noise has unit variance per label, so P(u_k > 0 | x) = Phi(mean_k)
    marginals = 0.5 * torch.erfc(-mean / math.sqrt(2.0))
    return x.to(dtype), y, marginals.to(dtype)
