"""A mixed-type table generated from a low-dimensional latent (Chapter 15)."""
from __future__ import annotations

import torch

from ._common import make_generator


def mixed_table(n, *, latent_dim=2, num_binary=3, num_continuous=3, categories=(3, 4), noise=0.3,
                seed=None, generator=None, dtype=None):
    r"""Rows with binary, continuous and categorical columns driven by a shared latent factor.

    .. math::

        \begin{aligned}
        u &\sim \mathcal N(0, I_r),\quad b_j \sim \operatorname{Bernoulli}(\sigma(a_j^\top u)),\\
        c_j &= m_j^\top u + \sigma\varepsilon_j,\quad
        g \sim \operatorname{Categorical}(\operatorname{softmax}(B_g u))
        \end{aligned}

    The loadings are drawn once from the generator. The columns are correlated through
    :math:`u`, so an autoencoder with an :math:`r`-dimensional code can reconstruct them well,
    and the encoded layout matches ``companion.mixed_reconstruction_loss``.

    Args:
        n: number of rows.
        latent_dim: :math:`r \ge 1`.
        num_binary, num_continuous: numbers of binary and continuous columns (``>= 0``).
        categories: number of levels of each categorical column (each ``>= 2``).
        noise: standard deviation :math:`\sigma \ge 0` of the continuous columns' noise.
        seed, generator: randomness (``seed`` defaults to 0).
        dtype: floating dtype of the table (default ``torch.get_default_dtype()``).

    Returns:
        ``(batch, spec, latent)``: the ``(n, F)`` encoded table (binary columns first, then
        continuous, then one one-hot group per categorical column), the ``spec`` dict for
        ``mixed_reconstruction_loss`` and the ``(n, latent_dim)`` latent factors.

    Example:
        >>> from companion.datasets import mixed_table
        >>> batch, spec, u = mixed_table(500, seed=0)
        >>> tuple(batch.shape), spec["categorical"]
        ((500, 13), [[6, 7, 8], [9, 10, 11, 12]])

    See also:
        Chapter 15, self-supervised and unsupervised learning.
    """
    for name, value, low in (("n", n, 1), ("latent_dim", latent_dim, 1), ("num_binary", num_binary, 0),
                             ("num_continuous", num_continuous, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    categories = list(categories)
    if any(isinstance(c, bool) or not isinstance(c, int) or c < 2 for c in categories):
        raise ValueError(f"categories must list ints >= 2, got {categories!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    g = make_generator(seed, generator)
    f64 = torch.float64
    u = torch.randn(n, latent_dim, generator=g, dtype=f64)
    parts = []
    load_b = 2.0 * torch.randn(num_binary, latent_dim, generator=g, dtype=f64)
    parts.append((torch.rand(n, num_binary, generator=g, dtype=f64) < torch.sigmoid(u @ load_b.T)).to(f64))
    load_c = torch.randn(num_continuous, latent_dim, generator=g, dtype=f64)
    parts.append(u @ load_c.T + noise * torch.randn(n, num_continuous, generator=g, dtype=f64))
    for k in categories:
        load_g = 2.0 * torch.randn(k, latent_dim, generator=g, dtype=f64)
        level = torch.multinomial(torch.softmax(u @ load_g.T, -1), 1, generator=g).squeeze(-1)
        parts.append(torch.nn.functional.one_hot(level, k).to(f64))
    batch = torch.cat(parts, 1)
    start = num_binary + num_continuous
    groups, offset = [], start
    for k in categories:
        groups.append(list(range(offset, offset + k)))
        offset += k
    spec = {"binary": list(range(num_binary)),
            "continuous": list(range(num_binary, start)),
            "categorical": groups}
    out = dtype or torch.get_default_dtype()
    return batch.to(out), spec, u.to(out)
