"""References for companion.contrastive."""
import numpy as np

from ._common import reduce


def _unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _nll_of_first(scores):
    """-log( e^{s_0} / sum_m e^{s_m} ) for one row of scores, the positive first."""
    top = np.max(scores)
    return -(scores[0] - top - np.log(np.sum(np.exp(scores - top))))


def info_nce(query, key, *, negatives=None, temperature=0.1, reduction="mean"):
    """loss_n = -log softmax over [cos(q_n, k_n), cos(q_n, negatives)] / tau, at the positive."""
    q, k = _unit(query), _unit(key)
    n = len(q)
    loss = np.zeros(n)
    for i in range(n):
        if negatives is None:
            negs = [k[m] for m in range(n) if m != i]
        else:
            neg = _unit(negatives)
            negs = list(neg if neg.ndim == 2 else neg[i])
        scores = np.array([q[i] @ k[i]] + [q[i] @ m for m in negs]) / temperature
        loss[i] = _nll_of_first(scores)
    return reduce(loss, reduction)


def nt_xent(z1, z2, *, temperature=0.5, reduction="mean"):
    """loss_i = -log e^{cos(u_i, u_j(i))/tau} / sum_{m != i} e^{cos(u_i, u_m)/tau}, u = [z1; z2]."""
    u = _unit(np.concatenate([z1, z2]))
    n = len(z1)
    loss = np.zeros(2 * n)
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        others = [m for m in range(2 * n) if m not in (i, positive)]
        scores = np.array([u[i] @ u[positive]] + [u[i] @ u[m] for m in others]) / temperature
        loss[i] = _nll_of_first(scores)
    return reduce(loss, reduction)
