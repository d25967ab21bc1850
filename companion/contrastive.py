"""Contrastive objectives: InfoNCE and SimCLR's NT-Xent, both a cross-entropy over similarities.

The book's Chapter 15.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _checks as C
from .core import _plain_cross_entropy

__all__ = ["info_nce", "nt_xent"]


def _check_embeddings(x, name):
    C.check_floating(x, name)
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, D) with N, D >= 1, got {tuple(x.shape)}")
    return x


def info_nce(query, key, *, negatives=None, temperature=0.1, reduction="mean"):
    r"""InfoNCE: cross-entropy of picking the positive key among negatives by cosine similarity.

    .. math::

        \ell_n = -\log \frac{\exp(\cos(q_n, k_n)/\tau)}
                 {\exp(\cos(q_n, k_n)/\tau) + \sum_{m} \exp(\cos(q_n, k^-_{m})/\tau)}

    With ``negatives=None`` the negatives of query :math:`n` are the other keys of the batch,
    and the loss is exactly ``cross_entropy(S, arange(N))`` with
    :math:`S_{nm} = \cos(q_n, k_m)/\tau`, the positive on the diagonal. With explicit
    ``negatives`` the positive is column 0 of :math:`[\cos(q_n, k_n), \cos(q_n, k^-_m)]/\tau`.
    Minimising it trains a critic whose optimum is the log density ratio
    :math:`\log p(k \mid q)/p(k)` up to a constant; :math:`\log N - \ell` lower-bounds the
    mutual information.

    Args:
        query: ``(N, D)`` embeddings; half precision is computed in float32.
        key: ``(N, D)`` positive keys, row ``n`` paired with query ``n``.
        negatives: ``None``, ``(M, D)`` negatives shared by all queries, or ``(N, M, D)``
            negatives per query.
        temperature: :math:`\tau > 0`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; ``(N,)`` per-query losses for ``"none"``.

    Raises:
        TypeError: an embedding is not a floating tensor.
        ValueError: shapes disagree, ``temperature`` is not positive, or ``reduction`` is
            unknown.

    Example:
        >>> import torch
        >>> from companion import info_nce
        >>> q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> # keys equal to their queries
        >>> round(info_nce(q, q, temperature=0.5).item(), 4)
        0.6

    References:
        van den Oord, Li and Vinyals (2018), *Representation learning with contrastive
        predictive coding*, https://arxiv.org/abs/1807.03748.

    See also:
        Chapter 15, self-supervised and unsupervised learning.
    """
    _check_embeddings(query, "query")
    _check_embeddings(key, "key")
    C.check_same_shape("query", query, "key", key)
    C.check_same_device("query", query, "key", key)
    t = C.check_temperature(temperature)
    C.check_reduction(reduction)
    dtype = C.compute_dtype(query)
    # cosine similarity = dot product of unit vectors
    q = F.normalize(query.to(dtype), dim=-1)
    k = F.normalize(key.to(dtype), dim=-1)
    n = q.shape[0]
    if negatives is None:
        logits = q @ k.T / t
        target = torch.arange(n, device=q.device)
    else:
        C.check_floating(negatives, "negatives")
        C.check_same_device("query", query, "negatives", negatives)
        d = q.shape[1]
        if negatives.dim() == 2 and negatives.shape[1] == d and negatives.shape[0] > 0:
            neg = F.normalize(negatives.to(dtype), dim=-1)
            negative_logits = q @ neg.T
        elif negatives.dim() == 3 and negatives.shape[0] == n and negatives.shape[2] == d and negatives.shape[1] > 0:
            neg = F.normalize(negatives.to(dtype), dim=-1)
            negative_logits = torch.einsum("nd,nmd->nm", q, neg)
        else:
            raise ValueError(f"negatives has shape {tuple(negatives.shape)}; expected (M, {d}) "
                             f"shared negatives or ({n}, M, {d}) per-query negatives with M >= 1")
        positive = (q * k).sum(-1, keepdim=True)
        logits = torch.cat([positive, negative_logits], dim=-1) / t
        target = torch.zeros(n, dtype=torch.long, device=q.device)
    # the targets are valid by construction: cross-entropy without its argument checks
    return _plain_cross_entropy(logits, target, reduction).to(query.dtype)


def nt_xent(z1, z2, *, temperature=0.5, reduction="mean"):
    r"""NT-Xent, SimCLR's normalised temperature-scaled cross-entropy over two views.

    .. math::

        \ell_i = -\log \frac{\exp(\cos(u_i, u_{j(i)})/\tau)}{\sum_{m \ne i} \exp(\cos(u_i, u_m)/\tau)}

    where :math:`u = [z_1; z_2]` stacks the :math:`2N` embeddings and :math:`j(i)` is the other
    view of the same example (:math:`i \pm N`). Each anchor has one positive and
    :math:`2N - 2` negatives: the self-similarity is excluded. The loss is symmetric in the two
    views.

    Args:
        z1, z2: ``(N, D)`` embeddings of two augmented views, row ``n`` of each from example
            ``n``; ``N >= 2``. Half precision is computed in float32.
        temperature: :math:`\tau > 0`.
        reduction: ``"mean"`` (over the :math:`2N` anchors) | ``"sum"`` | ``"none"``.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; the ``(2N,)`` per-anchor losses for ``"none"``
        (the anchors of ``z1`` first).

    Raises:
        TypeError: ``z1`` or ``z2`` is not a floating tensor.
        ValueError: shapes disagree, ``N < 2``, ``temperature`` is not positive, or
            ``reduction`` is unknown.

    Example:
        >>> import torch
        >>> from companion import nt_xent
        >>> z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> round(nt_xent(z1, z1.clone(), temperature=0.5).item(), 4)
        0.2395

    References:
        Chen, Kornblith, Norouzi and Hinton (2020), *A simple framework for contrastive
        learning of visual representations*, https://arxiv.org/abs/2002.05709.

    See also:
        Chapter 15, self-supervised and unsupervised learning.
    """
    _check_embeddings(z1, "z1")
    _check_embeddings(z2, "z2")
    C.check_same_shape("z1", z1, "z2", z2)
    C.check_same_device("z1", z1, "z2", z2)
    if z1.shape[0] < 2:
        raise ValueError(f"z1 must hold at least 2 examples (each needs a negative), got {z1.shape[0]}")
    t = C.check_temperature(temperature)
    C.check_reduction(reduction)
    dtype = C.compute_dtype(z1)
    n = z1.shape[0]
    u = F.normalize(torch.cat([z1.to(dtype), z2.to(dtype)]), dim=-1)
    # an anchor is not its own negative: -inf drops it from the softmax (exp(-inf) = 0);
    # in place on the fresh product (its backward needs u, not the product)
    logits = (u @ u.T).div_(t).fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(u.device)
    return _plain_cross_entropy(logits, target, reduction).to(z1.dtype)
