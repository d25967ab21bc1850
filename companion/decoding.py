"""Decoding a sequence of per-position scores into one label string.

A per-position classifier scores every position on its own; these functions turn such scores
into a label string that respects the shape of the labels: the Viterbi algorithm finds the
string with the highest total score under transition scores between neighbours, and the
majority filter smooths an already decoded string by a vote in a sliding window.

See also: Chapter 8, where both are baselines beside the adjacent Jensen-Shannon penalty.
"""
from __future__ import annotations

import torch

__all__ = ["viterbi_decode", "majority_filter"]


def _check_scores(name: str, t, *, allow_neg_inf: bool) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got {t.dtype}")
    bad = torch.isnan(t) | (t == float("inf"))
    if not allow_neg_inf:
        bad = bad | torch.isinf(t)
    if bool(bad.any()):
        raise ValueError(f"{name} must not contain NaN or +inf"
                         + ("" if allow_neg_inf else " or -inf"))


def viterbi_decode(emissions: torch.Tensor, transitions: torch.Tensor,
                   initial: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The label string with the highest total score, by dynamic programming.

    .. math::

        \hat s = \arg\max_{s_1, \dots, s_L}\; \pi_{s_1} + \sum_{i=1}^{L} e_{i, s_i}
                 + \sum_{i=2}^{L} A_{s_{i-1}, s_i}

    With log-probabilities for :math:`e`, :math:`A` and :math:`\pi` this is the most probable
    state path of a hidden Markov model (or of a linear-chain CRF with these potentials).

    Args:
        emissions: ``(..., L, K)`` per-position scores :math:`e_{i,k}` (for example
            log-probabilities), ``L >= 1``; any leading batch shape. May contain ``-inf``
            (a forbidden state) but not NaN or ``+inf``.
        transitions: ``(K, K)`` or ``(..., K, K)`` scores :math:`A_{jk}` for moving from state
            ``j`` to state ``k``; ``-inf`` forbids a transition.
        initial: optional ``(K,)`` or ``(..., K)`` scores :math:`\pi_k` of the first state
            (default zero).

    Returns:
        ``(path, score)``: ``(..., L)`` int64 states and the ``(...)`` total score of that
        path, in the promoted dtype (float32 for half inputs). The score is recomputed from
        the path, so it is differentiable with respect to the inputs (a subgradient of the
        maximum). Ties are broken towards the lower state index.

    Raises:
        TypeError: an argument is not a floating tensor.
        ValueError: shapes do not match, ``L = 0``, NaN or ``+inf`` in an argument.

    Example:
        >>> import torch
        >>> from companion.decoding import viterbi_decode
        >>> e = torch.log(torch.tensor([[0.6, 0.4], [0.4, 0.6], [0.6, 0.4]]))
        >>> stay = torch.log(torch.tensor([[0.9, 0.1], [0.1, 0.9]]))
        >>> path, score = viterbi_decode(e, stay)
        >>> path.tolist()
        [0, 0, 0]
        >>> viterbi_decode(e, torch.zeros(2, 2))[0].tolist()   # no transition prior
        [0, 1, 0]

    See also:
        :func:`majority_filter`; Chapter 8, decoding protein secondary structure.
    """
    _check_scores("emissions", emissions, allow_neg_inf=True)
    _check_scores("transitions", transitions, allow_neg_inf=True)
    if emissions.dim() < 2:
        raise ValueError(f"emissions must be (..., L, K), got shape {tuple(emissions.shape)}")
    length, k = emissions.shape[-2], emissions.shape[-1]
    if length == 0 or k == 0:
        raise ValueError(f"emissions needs L >= 1 and K >= 1, got shape {tuple(emissions.shape)}")
    if transitions.dim() < 2 or transitions.shape[-2:] != (k, k):
        raise ValueError(f"transitions must be (..., {k}, {k}), got {tuple(transitions.shape)}")
    if initial is None:
        initial = emissions.new_zeros(k)
    _check_scores("initial", initial, allow_neg_inf=True)
    if initial.dim() < 1 or initial.shape[-1] != k:
        raise ValueError(f"initial must be (..., {k}), got {tuple(initial.shape)}")
    dtype = torch.promote_types(torch.promote_types(emissions.dtype, transitions.dtype),
                                initial.dtype)
    if dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32
    e, a, pi = emissions.to(dtype), transitions.to(dtype), initial.to(dtype)
    batch = torch.broadcast_shapes(e.shape[:-2], a.shape[:-2], pi.shape[:-1])
    e = e.expand(*batch, length, k)
    a = a.expand(*batch, k, k)
    pi = pi.expand(*batch, k)
    with torch.no_grad():
        score = pi + e[..., 0, :]
        back = []
        for i in range(1, length):
            candidate = score[..., :, None] + a          # (..., from, to)
            score, arg = candidate.max(-2)
            score = score + e[..., i, :]
            back.append(arg)
        states = [score.argmax(-1)]
        for arg in reversed(back):
            states.append(arg.gather(-1, states[-1][..., None])[..., 0])
        path = torch.stack(states[::-1], -1)
    total = pi.gather(-1, path[..., :1])[..., 0]
    total = total + e.gather(-1, path[..., None])[..., 0].sum(-1)
    if length > 1:
        moves = a[..., None, :, :].expand(*batch, length - 1, k, k)
        frm = path[..., :-1, None, None].expand(*batch, length - 1, 1, k)
        rows = moves.gather(-2, frm)[..., 0, :]          # (..., L-1, K): A[s_{i-1}, :]
        total = total + rows.gather(-1, path[..., 1:, None])[..., 0].sum(-1)
    return path, total


def majority_filter(labels: torch.Tensor, width: int, num_classes: int) -> torch.Tensor:
    r"""Replace every label by the most frequent label in a window centred on it.

    .. math::

        \tilde s_i = \arg\max_k \#\{j : |j - i| \le r,\ 1 \le j \le L,\ s_j = k\},
        \qquad r = (\text{width} - 1)/2

    The window is cut at the ends of the sequence. A tie is won by the centre label if it is
    among the tied ones, otherwise by the lowest state index. This is the categorical
    counterpart of a median filter: a run shorter than :math:`r + 1` inside a longer run
    disappears.

    Args:
        labels: ``(..., L)`` integer labels in ``[0, num_classes)``.
        width: odd window width :math:`\ge 1` (1 returns the labels unchanged).
        num_classes: number of states :math:`K \ge 1`.

    Returns:
        ``(..., L)`` int64 filtered labels.

    Raises:
        TypeError: ``labels`` is not an integer tensor.
        ValueError: ``width`` is not a positive odd integer, ``num_classes < 1``, or a label is
            out of range.

    Example:
        >>> import torch
        >>> from companion.decoding import majority_filter
        >>> majority_filter(torch.tensor([2, 2, 0, 2, 2, 1, 1, 1]), 3, 3).tolist()
        [2, 2, 2, 2, 2, 1, 1, 1]

    See also:
        :func:`viterbi_decode`; Chapter 8.
    """
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex():
        got = getattr(labels, "dtype", type(labels))
        raise TypeError(f"labels must be an integer torch.Tensor, got {got}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1 or width % 2 == 0:
        raise ValueError(f"width must be a positive odd integer, got {width!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got range "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    labels = labels.long()
    if labels.dim() == 0:
        raise ValueError("labels must have a sequence axis (..., L)")
    if width == 1 or labels.numel() == 0:
        return labels.clone()
    shape = labels.shape
    onehot = torch.nn.functional.one_hot(labels.reshape(-1, shape[-1]), num_classes)
    counts = torch.nn.functional.avg_pool1d(onehot.transpose(1, 2).double(), width, 1,
                                            padding=width // 2, count_include_pad=False)
    counts = counts * width                          # not exact at the ends; order preserved
    counts = counts + 0.5 / width * onehot.transpose(1, 2)   # the centre wins ties
    return counts.argmax(1).reshape(shape)
