"""References for companion.imbalance."""
import numpy as np

from ._common import log_softmax, reduce, softplus
from ._core import cross_entropy


def class_weights(counts, scheme="inverse", *, beta=0.999, normalize=True):
    """w_k = 1/n_k, 1/sqrt(n_k) or (1 - beta) / (1 - beta^n_k), then scaled to mean 1."""
    n = np.asarray(counts, dtype=np.float64)
    if scheme == "inverse":
        w = 1 / n
    elif scheme == "inverse_sqrt":
        w = 1 / np.sqrt(n)
    else:
        w = (1 - beta) / (1 - beta ** n)
    return w * len(w) / w.sum() if normalize else w


def sampling_weights(labels, num_classes=None):
    """Example i gets 1 / n_{y_i}."""
    labels = np.asarray(labels)
    k = labels.max() + 1 if num_classes is None else num_classes
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    return 1 / counts[labels]


def logit_adjust(logits, priors, tau=1.0):
    """z_k + tau log pi_k."""
    return np.asarray(logits, dtype=np.float64) + tau * np.log(np.asarray(priors, dtype=np.float64))


def logit_adjusted_cross_entropy(logits, target, priors, *, tau=1.0, reduction="mean"):
    """Cross-entropy of the adjusted logits."""
    return cross_entropy(logit_adjust(logits, priors, tau), target, reduction=reduction)


def focal_loss(logits, target, *, gamma=2.0, alpha=None, ignore_index=-100, reduction="mean"):
    """-alpha_y (1 - p_t)^gamma log p_t, p_t = softmax(z)_y."""
    log_p = log_softmax(logits)
    target = np.asarray(target)
    valid = target != ignore_index
    y = np.where(valid, target, 0)
    p_t = np.exp(np.take_along_axis(log_p, y[..., None], -1)[..., 0])
    log_p_t = np.take_along_axis(log_p, y[..., None], -1)[..., 0]
    a = np.ones(log_p.shape[-1]) if alpha is None else np.asarray(alpha, dtype=np.float64)
    loss = np.where(valid, -a[y] * (1 - p_t) ** gamma * log_p_t, 0.0)
    return reduce(loss, reduction, np.sum(np.where(valid, a[y], 0.0)))


def binary_focal_loss(logits, target, *, gamma=2.0, alpha=0.25, reduction="mean"):
    """alpha_t (1 - p_t)^gamma BCE(z, y), torchvision's sigmoid focal loss."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    p = np.exp(-softplus(-z))  # sigma(z), without overflow
    bce = y * softplus(-z) + (1 - y) * softplus(z)
    p_t = p * y + (1 - p) * (1 - y)
    loss = (1 - p_t) ** gamma * bce
    if alpha is not None and alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return reduce(loss, reduction)
