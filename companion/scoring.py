"""Scores of probabilistic predictions: log score, Brier, code length, calibration, decisions.

The book's Chapter 16 (code lengths), Chapter 17 (proper scoring rules and decisions) and the
reliability diagrams of Chapter 1.
"""
from __future__ import annotations

import math

import torch

from . import _checks as C

__all__ = ["log_score", "brier_score", "code_length_bits", "expected_calibration_error",
           "reliability_curve", "bayes_decision", "cost_threshold"]


def _check_probs(probs, name="probs"):
    C.check_floating(probs, name)
    if probs.dim() < 1 or probs.shape[-1] == 0:
        raise ValueError(f"{name} must have the class axis last, shape (..., K), got {tuple(probs.shape)}")
    if probs.numel():
        lo, hi = torch.aminmax(probs.detach())  # NaN propagates and fails both comparisons
        if not (bool(lo >= 0) and bool(hi <= 1)):
            raise ValueError(f"{name} must hold probabilities in [0, 1], got an entry "
                             f"{float(lo) if not bool(lo >= 0) else float(hi)}")
    return probs


def _target(probs, target):
    """('hard', int64 indices) or ('soft', probabilities) after the checks of companion.core."""
    C.check_tensor(target, "target")
    if target.is_floating_point():
        return "soft", C.check_soft_target(probs, target, like_name="probs").to(C.compute_dtype(probs))
    return "hard", C.check_hard_target(probs, target, like_name="probs").long()


def log_score(probs, target):
    r"""The logarithmic score :math:`S(q, y) = \log q_y` (positively oriented: higher is better).

    .. math::

        S(q, y) = \log q_y,\qquad \mathbb E_{y \sim p}\, S(q, y) = \sum_k p_k \log q_k

    For a soft target :math:`p` the expected score is returned. It is strictly proper: the
    expectation is uniquely maximised by reporting :math:`q = p`. Its negative is the
    cross-entropy in nats; a zero probability on the outcome scores :math:`-\infty`.

    Args:
        probs: ``(..., K)`` predicted probabilities; half precision computed in float32.
        target: ``(...)`` integer outcomes, or ``(..., K)`` probabilities (expected score).

    Returns:
        ``(...)`` per-example scores (no reduction), in the dtype of ``probs``.

    Raises:
        TypeError: ``probs`` is not floating, or ``target`` is neither integer nor floating.
        ValueError: shapes disagree, a class index is out of range, or a probability leaves
            ``[0, 1]`` or is NaN (in ``probs`` or a soft ``target``).

    Example:
        >>> import torch
        >>> from companion import log_score
        >>> q = torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.25, 0.25]])
        >>> [round(v, 4) for v in log_score(q, torch.tensor([0, 2])).tolist()]
        [-0.3567, -1.3863]

    References:
        Gneiting and Raftery (2007), *Strictly proper scoring rules, prediction, and
        estimation*, https://doi.org/10.1198/016214506000001437.

    See also:
        Chapter 17, proper scoring rules and decisions.
    """
    return _log_score(probs, target).to(probs.dtype)


def _log_score(probs, target):
    """The log score in the compute dtype (float32 for half precision), after the checks."""
    _check_probs(probs)
    kind, t = _target(probs, target)
    q = probs.to(C.compute_dtype(probs))
    if kind == "hard":
        return torch.log(q.gather(-1, t.unsqueeze(-1)).squeeze(-1))
    # xlogy(0, 0) = 0: outcomes the target rules out cost nothing
    return torch.special.xlogy(t, q).sum(-1)


def brier_score(probs, target):
    r"""The Brier score :math:`\sum_k (q_k - y_k)^2` (negatively oriented: lower is better).

    .. math::

        B(q, y) = \sum_k (q_k - \mathbb 1[k = y])^2,\qquad
        \mathbb E_{y \sim p}\, B(q, y) = \sum_k q_k^2 - 2\,p^\top q + 1

    For a soft target :math:`p` the expected score is returned, which equals
    :math:`\lVert q - p\rVert^2 + 1 - \lVert p\rVert^2`: strictly proper, minimised at
    :math:`q = p`. It is evaluated as :math:`\sum_k (q_k - p_k)^2 + \sum_k p_k (1 - p_k)`
    (plus :math:`(\sum_k p_k - 1)\sum_k q_k^2`, the rounding of a target that does not sum to
    exactly one), never as :math:`\sum_k q_k^2 - 2 q_y + 1`, which cancels near a perfect
    prediction.

    Args:
        probs: ``(..., K)`` predicted probabilities.
        target: ``(...)`` integer outcomes, or ``(..., K)`` probabilities (expected score).

    Returns:
        ``(...)`` per-example scores in ``[0, 2]``, in the dtype of ``probs``.

    Raises:
        TypeError: ``probs`` is not floating, or ``target`` is neither integer nor floating.
        ValueError: shapes disagree, a class index is out of range, or a probability leaves
            ``[0, 1]`` or is NaN (in ``probs`` or a soft ``target``).

    Example:
        >>> import torch
        >>> from companion import brier_score
        >>> q = torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.25, 0.25]])
        >>> [round(v, 4) for v in brier_score(q, torch.tensor([0, 2])).tolist()]
        [0.14, 0.875]

    References:
        Brier (1950), *Verification of forecasts expressed in terms of probability*,
        https://doi.org/10.1175/1520-0493(1950)078%3C0001:VOFEIT%3E2.0.CO;2.

    See also:
        Chapter 17, proper scoring rules and decisions.
    """
    _check_probs(probs)
    kind, t = _target(probs, target)
    q = probs.to(C.compute_dtype(probs))
    if kind == "hard":
        # q - onehot as a copy of q with 1 taken from the outcome's entry: no (..., K) one-hot
        minus_one = torch.full(t.shape + (1,), -1.0, dtype=q.dtype, device=q.device)
        d = q.scatter_add(-1, t.unsqueeze(-1), minus_one)
        return torch.linalg.vector_norm(d, dim=-1).square().to(probs.dtype)
    # sum_y p_y sum_k (q_k - [k = y])^2 = |q - p|^2 + sum_k p_k (1 - p_k) + (sum p - 1) |q|^2:
    # sums of non-negative terms, no cancellation near a perfect prediction
    score = ((q - t) ** 2).sum(-1) + (t * (1 - t)).sum(-1) + (t.sum(-1) - 1) * (q * q).sum(-1)
    return score.to(probs.dtype)


def code_length_bits(probs, target):
    r"""Ideal code length of the outcome under the model, in bits: :math:`-\log_2 q_y`.

    .. math::

        L(y) = -\log_2 q_y,\qquad \mathbb E_{y\sim p} L(y) = -\sum_k p_k \log_2 q_k = H(p, q) / \ln 2

    An arithmetic coder driven by :math:`q` spends within two bits of
    :math:`\sum_n L(y_n)` on a whole sequence, so the cross-entropy in bits is the expected
    code length per symbol.

    Args:
        probs: ``(..., K)`` model probabilities.
        target: ``(...)`` integer outcomes, or ``(..., K)`` probabilities (expected length).

    Returns:
        ``(...)`` code lengths in bits, in the dtype of ``probs``.

    Raises:
        TypeError: ``probs`` is not floating, or ``target`` is neither integer nor floating.
        ValueError: shapes disagree, a class index is out of range, or a probability leaves
            ``[0, 1]``.

    Example:
        >>> import torch
        >>> from companion import code_length_bits
        >>> q = torch.tensor([[0.5, 0.25, 0.25]])
        >>> bits = code_length_bits(q.expand(3, 3), torch.tensor([0, 1, 2]))
        >>> [round(v, 4) for v in bits.tolist()]
        [1.0, 2.0, 2.0]

    References:
        Shannon (1948), *A mathematical theory of communication*,
        https://doi.org/10.1002/j.1538-7305.1948.tb01338.x.

    See also:
        Chapter 16, compression and minimum description length.
    """
    # one rounding to half precision at the end, not one after the log and one after the division
    return (-_log_score(probs, target) / math.log(2.0)).to(probs.dtype)


def _check_n_bins(n_bins):
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be an int >= 1, got {n_bins!r}")
    return n_bins


def _binned(probs, target, n_bins, class_index):
    """Per-bin counts, summed confidences and summed correctness over equal-width bins."""
    _check_probs(probs)
    _check_n_bins(n_bins)
    C.check_hard_target(probs, target, like_name="probs")
    k = probs.shape[-1]
    if class_index is not None and (isinstance(class_index, bool) or not isinstance(class_index, int)
                                    or not 0 <= class_index < k):
        raise ValueError(f"class_index must be None or an int in [0, {k}), got {class_index!r}")
    q = probs.to(C.compute_dtype(probs)).reshape(-1, k)
    y = target.reshape(-1).long()
    if class_index is None:   # top-label: the predicted class's probability, right or wrong
        confidence, predicted = q.max(-1)
        correct = (predicted == y).to(q.dtype)
    else:                     # one class's probability against how often that class occurs
        confidence = q[:, class_index]
        correct = (y == class_index).to(q.dtype)
    # bins (0, 1/B], (1/B, 2/B], ...; confidence 0 joins the first bin
    index = (torch.ceil(confidence * n_bins).long() - 1).clamp(0, n_bins - 1)
    zeros = torch.zeros(n_bins, dtype=q.dtype, device=q.device)
    count = zeros.index_add(0, index, torch.ones_like(confidence))
    conf_sum = zeros.index_add(0, index, confidence)
    correct_sum = zeros.index_add(0, index, correct)
    return count, conf_sum, correct_sum


def expected_calibration_error(probs, target, *, n_bins=15, class_index=None):
    r"""Expected calibration error over ``n_bins`` equal-width confidence bins.

    .. math::

        \mathrm{ECE} = \sum_{b=1}^{B} \frac{n_b}{N}\,\bigl|\operatorname{acc}(b) - \operatorname{conf}(b)\bigr|

    The confidence of an example is its top probability and it is correct when the top class is
    the target; bin :math:`b` holds the confidences in :math:`((b-1)/B,\ b/B]`. Empty bins
    contribute nothing.

    Args:
        probs: ``(..., K)`` predicted probabilities.
        target: ``(...)`` integer class indices.
        n_bins: number of equal-width bins :math:`B \ge 1`.
        class_index: ``None`` (default) for top-label calibration. An int :math:`c` bins by
            :math:`q_{ic}` instead and compares with the frequency of :math:`y_i = c`: the
            calibration of one class's probability (``class_index=1`` for the positive class of
            a binary model). Top-label bins can hide a model that is over-confident on one
            class and under-confident on the other, because the two errors cancel in a bin.

    Returns:
        A scalar tensor in ``[0, 1]`` (0 for an empty batch), in the dtype of ``probs``.

    Raises:
        TypeError: ``probs`` is not floating or ``target`` is not an integer tensor.
        ValueError: shapes disagree, a class index is out of range, a probability leaves
            ``[0, 1]``, ``n_bins`` is not a positive int, or ``class_index`` is out of range.

    Example:
        >>> import torch
        >>> from companion import expected_calibration_error
        >>> q = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
        >>> ece = expected_calibration_error(q, torch.tensor([0, 1, 0, 1]), n_bins=10)
        >>> round(ece.item(), 4)
        0.375

    References:
        Naeini, Cooper and Hauskrecht (2015), *Obtaining well calibrated probabilities using
        Bayesian binning*, https://ojs.aaai.org/index.php/AAAI/article/view/9602; Guo et al.
        (2017), *On calibration of modern neural networks*, https://arxiv.org/abs/1706.04599.

    See also:
        Chapter 1 (calibration after reweighting) and Chapter 17.
    """
    count, conf_sum, correct_sum = _binned(probs, target, n_bins, class_index)
    n = count.sum()
    gap = (correct_sum - conf_sum).abs()  # n_b |acc_b - conf_b|
    return torch.where(n > 0, gap.sum() / n.clamp_min(1.0), torch.zeros_like(n)).to(probs.dtype)


def reliability_curve(probs, target, *, n_bins=15, class_index=None):
    r"""Accuracy against confidence in ``n_bins`` equal-width bins: a reliability diagram.

    .. math::

        \operatorname{conf}(b) = \frac{1}{n_b}\sum_{i \in b} \max_k q_{ik},\qquad
        \operatorname{acc}(b) = \frac{1}{n_b}\sum_{i \in b} \mathbb 1[\arg\max_k q_{ik} = y_i]

    Bin :math:`b` holds the confidences in :math:`((b-1)/B,\ b/B]`. A calibrated model has
    :math:`\operatorname{acc}(b) \approx \operatorname{conf}(b)`.

    Args:
        probs: ``(..., K)`` predicted probabilities.
        target: ``(...)`` integer class indices.
        n_bins: number of equal-width bins :math:`B \ge 1`.
        class_index: ``None`` (default) for top-label calibration. An int :math:`c` bins by
            :math:`q_{ic}` instead and compares with the frequency of :math:`y_i = c`: the
            calibration of one class's probability (``class_index=1`` for the positive class of
            a binary model). Top-label bins can hide a model that is over-confident on one
            class and under-confident on the other, because the two errors cancel in a bin.

    Returns:
        A dict of ``(n_bins,)`` tensors: ``"confidence"`` and ``"accuracy"`` (the bin means;
        0 in an empty bin, so select ``count > 0`` before plotting), ``"count"`` (int64,
        examples per bin) and ``"edges"`` (``(n_bins + 1,)`` bin edges from 0 to 1).

    Raises:
        TypeError: ``probs`` is not floating or ``target`` is not an integer tensor.
        ValueError: shapes disagree, a class index is out of range, a probability leaves
            ``[0, 1]``, ``n_bins`` is not a positive int, or ``class_index`` is out of range.

    Example:
        >>> import torch
        >>> from companion import reliability_curve
        >>> q = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
        >>> curve = reliability_curve(q, torch.tensor([0, 1, 0, 1]), n_bins=2)
        >>> curve["count"].tolist(), [round(v, 3) for v in curve["accuracy"].tolist()]
        ([0, 4], [0.0, 0.75])

    References:
        DeGroot and Fienberg (1983), *The comparison and evaluation of forecasters*,
        https://doi.org/10.2307/2987588.

    See also:
        Chapter 1 (reliability before and after reweighting) and Chapter 17.
    """
    count, conf_sum, correct_sum = _binned(probs, target, n_bins, class_index)
    safe = count.clamp_min(1.0)
    dtype = probs.dtype
    return {
        "confidence": torch.where(count > 0, conf_sum / safe, torch.zeros_like(count)).to(dtype),
        "accuracy": torch.where(count > 0, correct_sum / safe, torch.zeros_like(count)).to(dtype),
        "count": count.round().long(),  # exact: a half-precision count would round above 256
        "edges": torch.linspace(0.0, 1.0, n_bins + 1, dtype=count.dtype, device=count.device).to(dtype),
    }


def bayes_decision(probs, cost_matrix):
    r"""The action with the least expected cost under the predicted distribution.

    .. math::

        a^\star(x) = \arg\min_a \sum_y C_{a y}\, q(y \mid x)

    With the 0-1 cost :math:`C = \mathbf 1\mathbf 1^\top - I` this is the argmax of
    :math:`q`; asymmetric costs move the decision away from it.

    Args:
        probs: ``(..., K)`` predicted probabilities over the outcomes :math:`y`.
        cost_matrix: ``(A, K)`` costs; ``cost_matrix[a, y]`` is the cost of action ``a`` when
            the outcome is ``y``. Actions need not be the classes (e.g. "refer to a specialist").

    Returns:
        ``(...)`` int64 indices of the chosen actions (ties go to the lowest index).

    Raises:
        TypeError: an argument is not a floating tensor.
        ValueError: ``cost_matrix`` is not 2-D with ``K`` columns or holds NaN or inf, or a
            probability leaves ``[0, 1]``.

    Example:
        >>> import torch
        >>> from companion import bayes_decision
        >>> costs = torch.tensor([[0.0, 10.0], [1.0, 0.0]])  # a missed disease costs 10
        >>> bayes_decision(torch.tensor([[0.95, 0.05], [0.85, 0.15]]), costs).tolist()
        [0, 1]

    References:
        Elkan (2001), *The foundations of cost-sensitive learning*,
        https://www.ijcai.org/Proceedings/01/IJCAI-2001-e.pdf.

    See also:
        Chapter 17, proper scoring rules and decisions.
    """
    _check_probs(probs)
    C.check_floating(cost_matrix, "cost_matrix")
    C.check_finite(cost_matrix, "cost_matrix")
    k = probs.shape[-1]
    if cost_matrix.dim() != 2 or cost_matrix.shape[1] != k or cost_matrix.shape[0] == 0:
        raise ValueError(f"cost_matrix has shape {tuple(cost_matrix.shape)} but must be (A, {k}): "
                         f"one row per action, one column per class of probs")
    C.check_same_device("probs", probs, "cost_matrix", cost_matrix)
    dtype = torch.promote_types(C.compute_dtype(probs), C.compute_dtype(cost_matrix))
    expected = (probs.to(dtype).unsqueeze(-2) * cost_matrix.to(dtype)).sum(-1)  # (..., A)
    return expected.argmin(-1)


def cost_threshold(cost_fp, cost_fn):
    r"""The Bayes-optimal probability threshold for a binary decision with given error costs.

    .. math::

        t^\star = \frac{c_{\mathrm{FP}}}{c_{\mathrm{FP}} + c_{\mathrm{FN}}}

    Predict positive when :math:`P(y = 1 \mid x) > t^\star`: the expected cost of a positive
    call, :math:`(1-p)\,c_{\mathrm{FP}}`, is then below that of a negative call,
    :math:`p\,c_{\mathrm{FN}}`. Equal costs give 0.5.

    Args:
        cost_fp: cost of a false positive, ``>= 0``.
        cost_fn: cost of a false negative, ``>= 0``; not both zero.

    Returns:
        The threshold as a Python float in ``[0, 1]``.

    Raises:
        TypeError: a cost is not a number.
        ValueError: a cost is negative, or both are zero.

    Example:
        >>> from companion import cost_threshold
        >>> cost_threshold(1.0, 9.0)
        0.1

    References:
        Elkan (2001), *The foundations of cost-sensitive learning*,
        https://www.ijcai.org/Proceedings/01/IJCAI-2001-e.pdf.

    See also:
        Chapter 17, proper scoring rules and decisions.
    """
    fp = C.check_nonnegative_number(cost_fp, "cost_fp")
    fn = C.check_nonnegative_number(cost_fn, "cost_fn")
    if fp + fn == 0:
        raise ValueError("cost_fp and cost_fn must not both be zero")
    return fp / (fp + fn)
