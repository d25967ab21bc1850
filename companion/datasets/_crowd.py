"""Simulated annotators of mixed reliability (Chapter 9)."""
from __future__ import annotations

import math

import torch

from ._common import make_generator


def simulated_annotators(n, *, num_classes=3, accuracies=(0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4),
                         coverage=0.6, dim=2, spread=2.0, seed=None, generator=None, dtype=None):
    r"""Items with features and a true class, labelled by annotators of mixed reliability.

    .. math::

        \begin{aligned}
        &y_n \sim \mathcal U\{0..K-1\},\quad x_n \sim \mathcal N(\mu_{y_n}, I),\\
        &P(\tilde y_{na} = l \mid y_n = k) = \theta^{(a)}_{kl} =
        \begin{cases} r_a & l = k\\ (1 - r_a)/(K-1) & l \ne k \end{cases}
        \end{aligned}

    Annotator :math:`a` labels each item independently with probability ``coverage``; an item
    left without any label gets one from a random annotator. The class means sit on a circle of
    radius ``spread``, so the features alone classify only partly well.

    Args:
        n: number of items.
        num_classes: :math:`K \ge 2`.
        accuracies: one reliability :math:`r_a \in [0, 1]` per annotator.
        coverage: probability that an annotator labels a given item, in ``(0, 1]``.
        dim: feature dimension (``>= 2``).
        spread: radius of the circle of class means.
        seed, generator: randomness (``seed`` defaults to 0).
        dtype: floating dtype of ``x`` and ``confusion`` (default ``torch.get_default_dtype()``).

    Returns:
        ``(x, y, annotations, confusion)``: ``(n, dim)`` features, ``(n,)`` int64 true classes,
        ``(n, A)`` int64 annotations with ``-1`` for missing, and the ``(A, K, K)`` true
        confusion matrices :math:`\theta`.

    Example:
        >>> from companion.datasets import simulated_annotators
        >>> x, y, votes, theta = simulated_annotators(1000, seed=0)
        >>> tuple(votes.shape), bool(((votes >= 0).sum(1) >= 1).all())
        ((1000, 8), True)

    See also:
        Chapter 9, crowdsourced labels.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    acc = torch.as_tensor(accuracies, dtype=torch.float64)
    if acc.dim() != 1 or acc.numel() == 0 or bool(((acc < 0) | (acc > 1)).any()):
        raise ValueError(f"accuracies must be a non-empty 1-D sequence of numbers in [0, 1], got {accuracies!r}")
    if isinstance(coverage, bool) or not isinstance(coverage, (int, float)) or not 0 < coverage <= 1:
        raise ValueError(f"coverage must be a number in (0, 1], got {coverage!r}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
        raise ValueError(f"dim must be an int >= 2, got {dim!r}")
    g = make_generator(seed, generator)
    k, a = num_classes, acc.numel()
    eye = torch.eye(k, dtype=torch.float64)
    confusion = acc[:, None, None] * eye + ((1 - acc) / (k - 1))[:, None, None] * (1 - eye)
    y = torch.randint(k, (n,), generator=g)
    angle = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
    means = torch.zeros(k, dim, dtype=torch.float64)
    means[:, 0], means[:, 1] = spread * torch.cos(angle), spread * torch.sin(angle)
    x = means[y] + torch.randn(n, dim, generator=g, dtype=torch.float64)
    # every (item, annotator) pair draws from the row of its annotator's matrix for the true class
    rows = confusion[torch.arange(a)[None, :], y[:, None]]  # (n, A, K)
    said = torch.multinomial(rows.reshape(-1, k), 1, generator=g).reshape(n, a)
    labelled = torch.rand(n, a, generator=g) < coverage
    # an item nobody picked gets one random annotator
    fallback = torch.nn.functional.one_hot(torch.randint(a, (n,), generator=g), a).bool()
    labelled = labelled | (fallback & ~labelled.any(1, keepdim=True))
    annotations = torch.where(labelled, said, torch.full_like(said, -1))
    out = dtype or torch.get_default_dtype()
    return x.to(out), y, annotations, confusion.to(out)
