"""References for companion.core."""
import numpy as np

from ._common import log_softmax, reduce, softplus


def cross_entropy(logits, target, *, weight=None, label_smoothing=0.0, ignore_index=-100,
                  reduction="mean"):
    """loss_n = -sum_k w_k t_nk log q_nk with t = (1 - eps) y + eps / K."""
    z = np.asarray(logits, dtype=np.float64)
    k = z.shape[-1]
    w = np.ones(k) if weight is None else np.asarray(weight, dtype=np.float64)
    log_q = log_softmax(z)
    target = np.asarray(target)
    if np.issubdtype(target.dtype, np.floating):
        t = (1 - label_smoothing) * target + label_smoothing / k
        return reduce(-np.sum(_times_log(w * t, log_q), axis=-1), reduction)
    valid = target != ignore_index
    y = np.where(valid, target, 0)
    # the hard target's weight multiplies its term; the uniform part is weighted per class
    loss = -(1 - label_smoothing) * w[y] * np.take_along_axis(log_q, y[..., None], -1)[..., 0]
    if label_smoothing:
        loss = loss - label_smoothing / k * np.sum(_times_log(w, log_q), axis=-1)
    loss = np.where(valid, loss, 0.0)
    return reduce(loss, reduction, np.sum(np.where(valid, w[y], 0.0)))


def _times_log(c, log_q):
    """c log q with 0 log 0 = 0: a class without mass contributes nothing, even at log q = -inf."""
    c, log_q = np.broadcast_arrays(np.asarray(c, dtype=np.float64), log_q)
    with np.errstate(invalid="ignore"):
        return np.where(c > 0, c * log_q, 0.0)


def binary_cross_entropy(logits, target, *, pos_weight=None, weight=None, mask=None,
                         reduction="mean"):
    """loss = w [ -beta y log sigma(z) - (1 - y) log(1 - sigma(z)) ]."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    beta = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    log_sig = -softplus(-z)
    log_one_minus_sig = -softplus(z)
    loss = -(beta * y * log_sig + (1 - y) * log_one_minus_sig)
    if weight is not None:
        loss = loss * np.asarray(weight, dtype=np.float64)
    if mask is None:
        return reduce(loss, reduction)
    mask = np.asarray(mask, dtype=bool)
    return reduce(np.where(mask, loss, 0.0), reduction, mask.sum())


def entropy(probs, dim=-1):
    """H(p) = -sum_k p_k log p_k with 0 log 0 = 0."""
    p = np.asarray(probs, dtype=np.float64)
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(np.where(p > 0, p * np.log(safe), 0.0), axis=dim)


def kl_divergence(p_logits, q_logits, dim=-1):
    """KL(p || q) = sum_k p_k (log p_k - log q_k)."""
    log_p, log_q = log_softmax(p_logits, dim), log_softmax(q_logits, dim)
    p = np.exp(log_p)
    with np.errstate(invalid="ignore"):
        return np.sum(np.where(p > 0, p * (log_p - log_q), 0.0), axis=dim)


def js_divergence(p_logits, q_logits, dim=-1):
    """JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2."""
    log_p, log_q = log_softmax(p_logits, dim), log_softmax(q_logits, dim)
    p, q = np.exp(log_p), np.exp(log_q)
    m = (p + q) / 2
    kl = lambda a, log_a: np.sum(np.where(a > 0, a * (log_a - np.log(np.where(m > 0, m, 1.0))), 0.0), axis=dim)
    with np.errstate(invalid="ignore"):
        return 0.5 * kl(p, log_p) + 0.5 * kl(q, log_q)
