"""Small float64 building blocks shared by the reference implementations."""
import numpy as np


def log_softmax(z, axis=-1):
    """log softmax(z) = z - logsumexp(z), shifted by the maximum so that exp never overflows."""
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True) if z.size else np.zeros(z.shape[:-1] + (1,))
    m = np.where(np.isfinite(m), m, 0.0)  # a row of -inf (or empty) stays -inf, not NaN
    with np.errstate(divide="ignore"):
        return z - m - np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


def softplus(z):
    """softplus(z) = log(1 + e^z), written as max(z, 0) + log1p(e^-|z|)."""
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def reduce(loss, reduction, denominator=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.sum(loss)
    if denominator is None:
        denominator = loss.size
    return np.sum(loss) / denominator if denominator > 0 else np.float64(0.0)
