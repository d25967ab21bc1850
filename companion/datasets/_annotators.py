"""Annotators defined by explicit confusion matrices (Chapter 9).

:func:`annotator_confusion` builds one annotator's confusion matrix of a named kind (a careful
expert, a noisy worker, an adversary who systematically reports the next class, a lazy worker
who always gives the same answer, a spammer who answers at random); :func:`annotate` lets a
panel of such annotators label items whose true classes are known.
"""
from __future__ import annotations

import torch

from ._common import make_generator

__all__ = ["annotator_confusion", "annotate"]

_KINDS = ("symmetric", "flip", "constant", "uniform")


def _int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def annotator_confusion(kind, num_classes, *, accuracy=None, label=None, dtype=None):
    r"""One annotator's confusion matrix :math:`\theta_{kl} = P(\text{says } l \mid \text{true } k)`.

    .. math::

        \begin{aligned}
        \text{symmetric: } \theta_{kl} &= r\,[l = k] + \tfrac{1 - r}{K - 1}\,[l \ne k],\\
        \text{flip: } \theta_{kl} &= r\,[l = k] + (1 - r)\,[l = k + 1 \bmod K],\\
        \text{constant: } \theta_{kl} &= [l = c], \qquad
        \text{uniform: } \theta_{kl} = 1/K.
        \end{aligned}

    ``"symmetric"`` with a high accuracy :math:`r` is an expert, with a low one a noisy worker;
    ``"flip"`` with a small :math:`r` is an adversary (or a worker who misread the
    instructions) who reports the next class most of the time; ``"constant"`` is a lazy worker
    who answers ``label`` whatever the item; ``"uniform"`` is a spammer who answers at random.
    The last two carry no information about the true class: their rows are all equal.

    Args:
        kind: ``"symmetric"``, ``"flip"``, ``"constant"`` or ``"uniform"``.
        num_classes: :math:`K \ge 2`.
        accuracy: :math:`r \in [0, 1]`, the probability of reporting the true class; required
            for ``"symmetric"`` and ``"flip"``, refused for the other kinds.
        label: the class :math:`c` a ``"constant"`` annotator always reports; required for
            that kind, refused for the others.
        dtype: floating dtype of the result (default ``torch.get_default_dtype()``).

    Returns:
        ``(K, K)`` tensor whose rows sum to one.

    Raises:
        ValueError: an unknown ``kind``, ``num_classes < 2``, ``accuracy`` outside ``[0, 1]``,
            ``label`` outside ``0..K-1``, or an argument missing for (or given to) a kind that
            needs (or ignores) it.

    Example:
        >>> from companion.datasets import annotator_confusion
        >>> import torch
        >>> annotator_confusion("flip", 3, accuracy=0.2, dtype=torch.float64).tolist()
        [[0.2, 0.8, 0.0], [0.0, 0.2, 0.8], [0.8, 0.0, 0.2]]
        >>> annotator_confusion("constant", 3, label=0).tolist()
        [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]

    See also:
        Chapter 9, crowdsourced labels; :func:`annotate`.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _KINDS))}, got {kind!r}")
    k = _int("num_classes", num_classes, 2)
    needs_accuracy = kind in ("symmetric", "flip")
    if needs_accuracy and accuracy is None:
        raise ValueError(f"kind {kind!r} needs accuracy (a number in [0, 1])")
    if not needs_accuracy and accuracy is not None:
        raise ValueError(f"kind {kind!r} takes no accuracy, got {accuracy!r}")
    if kind == "constant" and label is None:
        raise ValueError("kind 'constant' needs label (the class it always reports)")
    if kind != "constant" and label is not None:
        raise ValueError(f"kind {kind!r} takes no label, got {label!r}")
    if accuracy is not None:
        if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) \
                or not 0 <= accuracy <= 1:
            raise ValueError(f"accuracy must be a number in [0, 1], got {accuracy!r}")
    if label is not None:
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < k:
            raise ValueError(f"label must be an int in 0..{k - 1}, got {label!r}")
    eye = torch.eye(k, dtype=torch.float64)
    if kind == "symmetric":
        theta = accuracy * eye + (1 - accuracy) / (k - 1) * (1 - eye)
    elif kind == "flip":
        theta = accuracy * eye + (1 - accuracy) * eye.roll(1, dims=1)
    elif kind == "constant":
        theta = torch.zeros(k, k, dtype=torch.float64)
        theta[:, label] = 1.0
    else:
        theta = torch.full((k, k), 1.0 / k, dtype=torch.float64)
    return theta.to(dtype or torch.get_default_dtype())


def annotate(y, confusion, *, per_item=None, seed=None, generator=None):
    r"""Labels from a panel of annotators with known confusion matrices.

    Annotator :math:`a` reports class :math:`l` for an item of true class :math:`k` with
    probability ``confusion[a, k, l]``, independently of everything else. With
    ``per_item=None`` every annotator labels every item; with ``per_item=r`` each item is
    labelled by :math:`r` distinct annotators drawn uniformly at random, and the others'
    entries are ``-1`` (the layout :func:`companion.dawid_skene` and
    :func:`companion.majority_vote` read).

    Args:
        y: ``(N,)`` integer true classes in ``0..K-1``.
        confusion: ``(A, K, K)`` non-negative confusion matrices whose rows sum to one (for
            example a stack of :func:`annotator_confusion` results).
        per_item: ``None`` (everyone labels everything) or an int :math:`1 \le r \le A`.
        seed, generator: randomness (``seed`` defaults to 0).

    Returns:
        ``(N, A)`` int64 annotations, ``-1`` where an annotator did not label an item.

    Raises:
        TypeError: ``y`` is not an integer tensor or ``confusion`` not a floating tensor.
        ValueError: wrong shapes, a class index outside ``0..K-1``, rows that are not
            probability vectors, or ``per_item`` outside ``1..A``.

    Example:
        >>> import torch
        >>> from companion.datasets import annotate, annotator_confusion
        >>> panel = torch.stack([annotator_confusion("symmetric", 2, accuracy=1.0),
        ...                      annotator_confusion("constant", 2, label=0)])
        >>> annotate(torch.tensor([0, 1, 1]), panel, seed=0).tolist()
        [[0, 0], [1, 0], [1, 0]]

    See also:
        Chapter 9, crowdsourced labels; :func:`annotator_confusion`.
    """
    if not isinstance(y, torch.Tensor) or y.is_floating_point() or y.is_complex() \
            or y.dtype == torch.bool:
        raise TypeError(f"y must be an integer tensor of class indices, got "
                        f"{getattr(y, 'dtype', type(y).__name__)}")
    if not isinstance(confusion, torch.Tensor) or not confusion.is_floating_point():
        raise TypeError(f"confusion must be a floating tensor, got "
                        f"{getattr(confusion, 'dtype', type(confusion).__name__)}")
    if y.dim() != 1:
        raise ValueError(f"y must be 1-D (N,), got shape {tuple(y.shape)}")
    if confusion.dim() != 3 or confusion.shape[1] != confusion.shape[2] or confusion.shape[1] < 2:
        raise ValueError(f"confusion must have shape (A, K, K) with K >= 2, got "
                         f"{tuple(confusion.shape)}")
    theta = confusion.detach().to(torch.float64).cpu()
    a, k = theta.shape[0], theta.shape[1]
    if a < 1:
        raise ValueError("confusion must hold at least one annotator")
    if not bool(torch.isfinite(theta).all()) or bool((theta < 0).any()) \
            or bool(((theta.sum(-1) - 1).abs() > 1e-6).any()):
        raise ValueError("confusion rows must be finite, non-negative and sum to 1")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= k):
        raise ValueError(f"y has class index outside 0..{k - 1} (confusion has K={k})")
    if per_item is not None:
        per_item = _int("per_item", per_item, 1)
        if per_item > a:
            raise ValueError(f"per_item must be at most the number of annotators {a}, "
                             f"got {per_item}")
    g = make_generator(seed, generator)
    n = y.numel()
    yc = y.cpu().long()
    rows = theta[torch.arange(a)[None, :], yc[:, None]]  # (N, A, K): the row of the true class
    if n == 0:
        return torch.empty(0, a, dtype=torch.long, device=y.device)
    said = torch.multinomial(rows.reshape(-1, k), 1, generator=g).reshape(n, a)
    if per_item is not None and per_item < a:
        # the r smallest of A uniform keys pick r distinct annotators uniformly at random
        keys = torch.rand(n, a, generator=g)
        chosen = keys.argsort(dim=1)[:, :per_item]
        labelled = torch.zeros(n, a, dtype=torch.bool).scatter_(1, chosen, True)
        said = torch.where(labelled, said, torch.full_like(said, -1))
    return said.to(y.device)
