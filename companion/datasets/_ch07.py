"""Gaussian classes arranged along a label taxonomy (Chapter 7)."""
from __future__ import annotations

import torch

from ._common import make_generator


def taxonomy_blobs(tree, n_per_leaf, *, dim=2, spread=3.0, decay=0.5, std=1.0, seed=None,
                   generator=None, dtype=torch.float32):
    r"""Gaussian classes whose means follow a tree: siblings are closer than cousins.

    Every node :math:`v` gets a mean by a random walk down the tree,
    :math:`\mu_v = \mu_{\operatorname{pa}(v)} + \text{spread}\cdot\text{decay}^{d(v)-1}\,\xi_v`
    with :math:`\xi_v \sim \mathcal N(0, I)`, :math:`d(v)` the depth of :math:`v` and
    :math:`\mu_{\text{root}} = 0`. Leaf :math:`\ell` then has ``n_per_leaf`` examples drawn from
    :math:`\mathcal N(\mu_\ell, \text{std}^2 I)`. With ``decay < 1`` the coarse decisions near the
    root are easy and the fine ones near the leaves are hard.

    Args:
        tree: a :class:`companion.Tree` (only ``parents`` and ``leaves`` are used).
        n_per_leaf: examples per leaf class.
        dim: input dimension.
        spread, decay: the scale of the first-level offsets and its factor per level.
        std: the within-class standard deviation.
        seed, generator: randomness (``seed`` defaults to 0); the means and the examples both
            come from it.
        dtype: floating dtype of ``x``.

    Returns:
        ``(x, y)``: ``(num_leaves * n_per_leaf, dim)`` inputs and int64 leaf indices into
        ``tree.leaves``, shuffled.

    Example:
        >>> from companion import Tree
        >>> from companion.datasets import taxonomy_blobs
        >>> tree = Tree([-1, 0, 0, 1, 1])
        >>> x, y = taxonomy_blobs(tree, 5, dim=3, seed=0)
        >>> tuple(x.shape), y.bincount().tolist()
        ((15, 3), [5, 5, 5])

    See also:
        Chapter 7, hierarchical classification.
    """
    parents, leaves = list(tree.parents), list(tree.leaves)
    for name, value in (("n_per_leaf", n_per_leaf), ("dim", dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    for name, value in (("spread", spread), ("decay", decay), ("std", std)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    g = make_generator(seed, generator)
    num_nodes = len(parents)
    noise = torch.randn(num_nodes, dim, generator=g, dtype=torch.float64)
    means = torch.zeros(num_nodes, dim, dtype=torch.float64)
    depth = [0] * num_nodes
    done = [False] * num_nodes
    done[0] = True

    def resolve(v):
        # parents may be listed after their children: walk up first
        if not done[v]:
            resolve(parents[v])
            depth[v] = depth[parents[v]] + 1
            means[v] = means[parents[v]] + spread * decay ** (depth[v] - 1) * noise[v]
            done[v] = True

    for v in range(num_nodes):
        resolve(v)
    y = torch.arange(len(leaves)).repeat_interleave(n_per_leaf)
    x = means[torch.tensor(leaves)][y] + std * torch.randn(len(y), dim, generator=g, dtype=torch.float64)
    order = torch.randperm(len(y), generator=g)
    return x[order].to(dtype), y[order]
