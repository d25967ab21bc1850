"""References for companion.scoring."""
import math

import numpy as np


def _expected(probs, target, per_outcome):
    """Score of each example: per_outcome(q, y) for a hard target, sum_y p_y per_outcome(q, y) for a soft one."""
    q = np.asarray(probs, dtype=np.float64)
    target = np.asarray(target)
    k = q.shape[-1]
    out = np.zeros(q.shape[:-1])
    for index in np.ndindex(q.shape[:-1]):
        if np.issubdtype(target.dtype, np.floating):
            out[index] = sum(target[index][y] * per_outcome(q[index], y) for y in range(k) if target[index][y] > 0)
        else:
            out[index] = per_outcome(q[index], int(target[index]))
    return out


def log_score(probs, target):
    """S(q, y) = log q_y."""
    with np.errstate(divide="ignore"):
        return _expected(probs, target, lambda q, y: math.log(q[y]) if q[y] > 0 else -math.inf)


def brier_score(probs, target):
    """B(q, y) = sum_k (q_k - [k = y])^2."""
    return _expected(probs, target, lambda q, y: np.sum((q - np.eye(len(q))[y]) ** 2))


def code_length_bits(probs, target):
    """L(y) = -log2 q_y."""
    return -log_score(probs, target) / math.log(2)


def reliability_curve(probs, target, *, n_bins=15, class_index=None):
    """Per bin ((b-1)/B, b/B]: mean confidence, accuracy and count of the examples it holds.

    Top-label: confidence max_k q_k, correct when argmax = y. With class_index c: confidence
    q_c, "correct" when y = c.
    """
    q = np.asarray(probs, dtype=np.float64).reshape(-1, np.shape(probs)[-1])
    y = np.asarray(target).reshape(-1)
    confidence, accuracy, count = np.zeros(n_bins), np.zeros(n_bins), np.zeros(n_bins)
    for qi, yi in zip(q, y):
        c = qi.max() if class_index is None else qi[class_index]
        hit = np.argmax(qi) == yi if class_index is None else yi == class_index
        b = min(max(math.ceil(c * n_bins) - 1, 0), n_bins - 1)
        count[b] += 1
        confidence[b] += c
        accuracy[b] += float(hit)
    seen = count > 0
    confidence[seen] /= count[seen]
    accuracy[seen] /= count[seen]
    return {"confidence": confidence, "accuracy": accuracy, "count": count,
            "edges": np.linspace(0, 1, n_bins + 1)}


def expected_calibration_error(probs, target, *, n_bins=15, class_index=None):
    """ECE = sum_b (n_b / N) |acc(b) - conf(b)|."""
    curve = reliability_curve(probs, target, n_bins=n_bins, class_index=class_index)
    n = curve["count"].sum()
    return np.sum(curve["count"] / n * np.abs(curve["accuracy"] - curve["confidence"])) if n else 0.0


def bayes_decision(probs, cost_matrix):
    """a* = argmin_a sum_y C[a, y] q_y."""
    q = np.asarray(probs, dtype=np.float64)
    return np.argmin(q @ np.asarray(cost_matrix, dtype=np.float64).T, axis=-1)


def cost_threshold(cost_fp, cost_fn):
    """t* = c_fp / (c_fp + c_fn)."""
    return cost_fp / (cost_fp + cost_fn)
