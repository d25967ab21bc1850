"""In-distribution classes and out-of-distribution inputs (Chapter 18)."""
from __future__ import annotations

import math

import torch

from ._common import make_generator


def ood_split(n_train, n_test, n_ood, *, num_classes=3, dim=2, spread=3.0, kind="far", seed=None,
              generator=None, dtype=None):
    r"""Gaussian classes for training and testing, plus inputs from none of them.

    In-distribution: class :math:`k` is :math:`\mathcal N(\mu_k, I)` with the means on a circle
    of radius ``spread`` (first two coordinates), classes equally likely. Out-of-distribution:

    * ``"far"``: :math:`\mathcal N(0, I)` scaled onto a shell of radius ``3 * spread``,
      far from every class;
    * ``"near"``: :math:`\mathcal N(0, 0.5^2 I)` at the origin, between the classes, where a
      classifier is least sure.

    Args:
        n_train, n_test, n_ood: numbers of training, in-distribution test and OOD inputs.
        num_classes: :math:`K \ge 2`.
        dim: input dimension (``>= 2``).
        spread: radius of the circle of class means.
        kind: ``"far"`` or ``"near"``.
        seed, generator: randomness (``seed`` defaults to 0).
        dtype: floating dtype of the inputs (default ``torch.get_default_dtype()``).

    Returns:
        A dict with ``"x_train" (n_train, dim)``, ``"y_train" (n_train,)``,
        ``"x_test" (n_test, dim)``, ``"y_test" (n_test,)`` and ``"x_ood" (n_ood, dim)``.

    Example:
        >>> from companion.datasets import ood_split
        >>> data = ood_split(300, 200, 100, seed=0)
        >>> sorted(data), tuple(data["x_ood"].shape)
        (['x_ood', 'x_test', 'x_train', 'y_test', 'y_train'], (100, 2))

    See also:
        Chapter 18, the energy-based view and out-of-distribution detection.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test), ("n_ood", n_ood)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
        raise ValueError(f"dim must be an int >= 2, got {dim!r}")
    if kind not in ("far", "near"):
        raise ValueError(f"kind must be 'far' or 'near', got {kind!r}")
    g = make_generator(seed, generator)
    f64 = torch.float64
    angle = 2 * math.pi * torch.arange(num_classes, dtype=f64) / num_classes
    means = torch.zeros(num_classes, dim, dtype=f64)
    means[:, 0], means[:, 1] = spread * torch.cos(angle), spread * torch.sin(angle)

    def draw(m):
        y = torch.randint(num_classes, (m,), generator=g)
        return means[y] + torch.randn(m, dim, generator=g, dtype=f64), y

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    z = torch.randn(n_ood, dim, generator=g, dtype=f64)
    if kind == "far":
        x_ood = 3 * spread * z / z.norm(dim=1, keepdim=True) + 0.5 * torch.randn(n_ood, dim, generator=g, dtype=f64)
    else:
        x_ood = 0.5 * z
    out = dtype or torch.get_default_dtype()
    return {"x_train": x_train.to(out), "y_train": y_train, "x_test": x_test.to(out), "y_test": y_test,
            "x_ood": x_ood.to(out)}
