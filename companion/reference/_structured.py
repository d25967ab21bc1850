"""References for companion.structured."""
import numpy as np

from ._common import log_softmax
from ._core import binary_cross_entropy, js_divergence


def multilabel_cross_entropy(logits, targets, *, mask=None, pos_weight=None, reduction="mean"):
    """loss_n = sum_k BCE(z_nk, y_nk), averaged over the examples with an observed label."""
    per_label = binary_cross_entropy(logits, targets, pos_weight=pos_weight, mask=mask,
                                     reduction="none")
    if mask is not None:
        per_label = np.where(np.asarray(mask, dtype=bool), per_label, 0.0)
    loss = np.sum(per_label, axis=-1)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.sum(loss)
    counted = loss.size if mask is None else np.sum(np.any(np.asarray(mask, dtype=bool), axis=-1))
    return np.sum(loss) / counted if counted else np.float64(0.0)


def _local_log_probs(z, tree):
    """log P(v | pa(v)) for one example: a log-softmax over each node's children, node by node."""
    out = np.zeros(tree.num_nodes)
    for u in range(tree.num_nodes):
        children = tree.children[u]
        if children:
            # column c - 1 holds node c's logit
            out[children] = log_softmax(z[[c - 1 for c in children]])
    return out


def hierarchical_log_probs(logits, tree):
    """log P(leaf) = sum over the path below the root of log P(v | pa(v))."""
    z = np.asarray(logits, dtype=np.float64)
    out = np.zeros(z.shape[:-1] + (len(tree.leaves),))
    for index in np.ndindex(z.shape[:-1]):
        local = _local_log_probs(z[index], tree)
        for j, leaf in enumerate(tree.leaves):
            out[index + (j,)] = sum(local[v] for v in tree.path(leaf)[1:])
    return out


def hierarchical_cross_entropy(logits, target, tree, *, reduction="mean"):
    """-log P(target leaf), a sum of local softmax cross-entropies along the true path."""
    log_p = hierarchical_log_probs(logits, tree)
    target = np.asarray(target)
    loss = -np.take_along_axis(log_p, target[..., None], -1)[..., 0]
    if reduction == "none":
        return loss
    return np.sum(loss) if reduction == "sum" else np.mean(loss)


def adjacent_js_penalty(logits, *, mask=None):
    """mean over valid neighbouring pairs (i, i + 1) of JS(p_i, p_{i+1})."""
    z = np.asarray(logits, dtype=np.float64)
    js = js_divergence(z[..., :-1, :], z[..., 1:, :])
    if mask is None:
        valid = np.ones(js.shape, dtype=bool)
    else:
        mask = np.asarray(mask, dtype=bool)
        valid = mask[..., :-1] & mask[..., 1:]
    return np.sum(js[valid]) / valid.sum() if valid.sum() else np.float64(0.0)
