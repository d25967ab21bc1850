"""Two tasks on one input: a 4-class task and a 3-label task that share directions (Chapter 14)."""
from __future__ import annotations

import torch

from ._common import make_generator


def two_task_data(n, *, noise_class=0.0, noise_labels=0.0, dim=6, seed=None, generator=None):
    r"""Gaussian inputs with a softmax task and a multi-label task that compete for features.

    With :math:`x \sim \mathcal N(0, I_{d})`, the class task has four classes, the quadrant of
    :math:`(x_1 + x_2,\ x_3)`; the label task has three binary labels, the signs of
    :math:`x_1 - x_2`, :math:`x_3` and :math:`x_4`. The two tasks share the direction
    :math:`x_3` and need two different combinations of :math:`x_1, x_2`: four useful
    directions in all, so a shared layer narrower than four units cannot serve both fully.

    Label noise: with probability ``noise_class`` an example's class is replaced by a uniformly
    drawn class (possibly the same); each binary label is flipped independently with
    probability ``noise_labels``. The clean labels are returned too, for held-out scoring.

    Args:
        n: number of examples (``>= 1``).
        noise_class: replacement probability for the class, in ``[0, 1]``.
        noise_labels: flip probability for each binary label, in ``[0, 1]``.
        dim: input dimension ``>= 4`` (the extra coordinates are irrelevant to both tasks).
        seed, generator: randomness (``seed`` defaults to 0).

    Returns:
        A dict with ``x (n, dim)`` float32, ``y_class (n,)`` int64 (noisy), ``y_labels (n, 3)``
        float32 (noisy), and ``y_class_clean``, ``y_labels_clean``.

    Raises:
        ValueError: a size or a noise level is out of range.

    Example:
        >>> from companion.datasets import two_task_data
        >>> d = two_task_data(5, seed=0)
        >>> d["x"].shape, d["y_class"].shape, d["y_labels"].shape
        (torch.Size([5, 6]), torch.Size([5]), torch.Size([5, 3]))

    See also:
        Chapter 14, multi-task learning.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 4:
        raise ValueError(f"dim must be an int >= 4, got {dim!r}")
    for name, p in (("noise_class", noise_class), ("noise_labels", noise_labels)):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    g = make_generator(seed, generator)
    x = torch.randn(n, dim, generator=g)
    y_class = (x[:, 0] + x[:, 1] > 0).long() + 2 * (x[:, 2] > 0).long()
    y_labels = torch.stack([x[:, 0] - x[:, 1], x[:, 2], x[:, 3]], 1).gt(0).float()
    replace = torch.rand(n, generator=g) < noise_class
    noisy_class = torch.where(replace, torch.randint(4, (n,), generator=g), y_class)
    flip = torch.rand(n, 3, generator=g) < noise_labels
    noisy_labels = torch.where(flip, 1.0 - y_labels, y_labels)
    return {"x": x, "y_class": noisy_class, "y_labels": noisy_labels,
            "y_class_clean": y_class, "y_labels_clean": y_labels}
