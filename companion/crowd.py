"""Crowdsourced labels: majority vote and the Dawid-Skene EM estimator.

The book's Chapter 9.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import _checks as C

__all__ = ["majority_vote", "dawid_skene", "DawidSkeneResult"]


def _check_annotations(annotations, num_classes) -> torch.Tensor:
    C.check_tensor(annotations, "annotations")
    if annotations.is_floating_point() or annotations.is_complex() or annotations.dtype == torch.bool:
        raise TypeError(f"annotations must be an integer tensor (class index, or -1 for missing), "
                        f"got dtype {annotations.dtype}")
    if annotations.dim() != 2:
        raise ValueError(f"annotations must have shape (N, A), items by annotators, got shape "
                         f"{tuple(annotations.shape)}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    if annotations.numel():
        lo, hi = int(annotations.min()), int(annotations.max())
        if hi >= num_classes:
            raise ValueError(f"annotations has class index {hi} but num_classes is {num_classes}")
        if lo < -1:
            raise ValueError(f"annotations has entry {lo}; use -1 for a missing annotation and "
                             f"0..{num_classes - 1} for a class")
    return annotations


def _one_hot(annotations, num_classes, dtype) -> torch.Tensor:
    """(N, A, K) indicators; a missing annotation (-1) is an all-zero row."""
    observed = annotations >= 0
    safe = torch.where(observed, annotations, torch.zeros_like(annotations)).long()
    return torch.nn.functional.one_hot(safe, num_classes).to(dtype) * observed[..., None].to(dtype)


def majority_vote(annotations, num_classes, *, dtype=None):
    r"""Fraction of the annotators of each item who chose each class.

    .. math::

        v_{nk} = \frac{\sum_a \mathbb 1[y_{na} = k]}{\sum_a \mathbb 1[y_{na} \ne -1]}

    An item that nobody labelled gets the uniform distribution :math:`1/K`. ``argmax`` of the
    result is the majority label (ties go to the lowest class index).

    Args:
        annotations: ``(N, A)`` integer tensor; entry ``(n, a)`` is annotator ``a``'s label for
            item ``n``, or ``-1`` when ``a`` did not label ``n``.
        num_classes: :math:`K \ge 2`.
        dtype: floating dtype of the result (default ``torch.get_default_dtype()``).

    Returns:
        ``(N, K)`` vote fractions; every row sums to one.

    Raises:
        TypeError: ``annotations`` is not an integer tensor.
        ValueError: ``annotations`` is not 2-D, holds an entry outside ``{-1, 0, ..., K-1}``, or
            ``num_classes < 2``.

    Example:
        >>> import torch
        >>> from companion import majority_vote
        >>> votes = torch.tensor([[0, 0, 1], [2, -1, 2], [-1, -1, -1]])
        >>> [[round(v, 3) for v in row] for row in majority_vote(votes, 3).tolist()]
        [[0.667, 0.333, 0.0], [0.0, 0.0, 1.0], [0.333, 0.333, 0.333]]

    See also:
        Chapter 9, crowdsourced labels.
    """
    _check_annotations(annotations, num_classes)
    out = dtype or torch.get_default_dtype()
    counts = _one_hot(annotations, num_classes, torch.float64).sum(1)  # (N, K)
    total = counts.sum(-1, keepdim=True)
    uniform = torch.full_like(counts, 1.0 / num_classes)
    return torch.where(total > 0, counts / total.clamp_min(1.0), uniform).to(out)


@dataclass(frozen=True)
class DawidSkeneResult:
    """What :func:`dawid_skene` returns.

    Attributes:
        posteriors: ``(N, K)`` posterior class probabilities of each item, the soft labels.
        confusion: ``(A, K, K)``; ``confusion[a, k, l]`` estimates
            :math:`P(\\text{annotator } a \\text{ says } l \\mid \\text{true class } k)`.
        priors: ``(K,)`` estimated class frequencies.
        n_iter: number of EM iterations run.
        log_likelihood: the marginal log-likelihood of the observed annotations under the
            final parameters (a float, in nats).
        converged: whether the tolerance was met before ``max_iter``.
    """

    posteriors: torch.Tensor
    confusion: torch.Tensor
    priors: torch.Tensor
    n_iter: int
    log_likelihood: float
    converged: bool


def dawid_skene(annotations, num_classes, *, max_iter=100, tol=1e-6, smoothing=0.01, dtype=None):
    r"""Dawid-Skene EM: true-label posteriors and a confusion matrix per annotator.

    Each item has a latent true class :math:`k` with prior :math:`\pi_k`; annotator :math:`a`
    reports :math:`l` with probability :math:`\theta^{(a)}_{kl}`, independently of the other
    annotators given :math:`k`. EM alternates

    .. math::

        \text{E:}\quad T_{nk} \propto \pi_k \prod_{a:\, y_{na} \ne -1} \theta^{(a)}_{k\, y_{na}},
        \qquad
        \text{M:}\quad \pi_k = \frac1N \sum_n T_{nk},\quad
        \theta^{(a)}_{kl} = \frac{s + \sum_n T_{nk}\,\mathbb 1[y_{na} = l]}
                                 {K s + \sum_n T_{nk}\,\mathbb 1[y_{na} \ne -1]}

    starting from the majority-vote fractions as :math:`T`. The E-step is computed in log space
    (a log-sum-exp over classes), both steps are ``einsum`` contractions over an
    ``(N, A, K)`` one-hot tensor, and only the EM iterations are a Python loop. The pseudo-count
    :math:`s` (``smoothing``) keeps every :math:`\theta` positive, so an annotator who never saw
    class :math:`k` does not produce :math:`\log 0`. Iteration stops when the log-likelihood
    changes by less than ``tol * max(1, |log L|)``.

    Args:
        annotations: ``(N, A)`` integer tensor of class indices, ``-1`` where annotator ``a``
            did not label item ``n``; any device.
        num_classes: :math:`K \ge 2`.
        max_iter: maximum number of EM iterations (at least 1).
        tol: relative tolerance on the change of the log-likelihood.
        smoothing: the pseudo-count :math:`s \ge 0` added to every confusion cell.
        dtype: floating dtype of the returned tensors (default
            ``torch.get_default_dtype()``); the EM itself runs in float64.

    Returns:
        A :class:`DawidSkeneResult` with ``posteriors (N, K)``, ``confusion (A, K, K)``,
        ``priors (K,)``, ``n_iter``, ``log_likelihood`` and ``converged``.

    Raises:
        TypeError: ``annotations`` is not an integer tensor, or a number argument has the
            wrong type.
        ValueError: ``annotations`` is not 2-D or holds an entry outside
            ``{-1, 0, ..., K-1}``, ``num_classes < 2``, ``max_iter < 1``, or ``tol`` or
            ``smoothing`` is negative.

    Example:
        >>> import torch
        >>> from companion import dawid_skene
        >>> votes = torch.tensor([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 0, 1], [0, -1, 1]])
        >>> result = dawid_skene(votes, 2)
        >>> result.posteriors.argmax(-1).tolist(), result.n_iter < 100
        ([0, 1, 0, 1, 0], True)

    References:
        Dawid and Skene (1979), *Maximum likelihood estimation of observer error-rates using
        the EM algorithm*, https://doi.org/10.2307/2346806.

    See also:
        Chapter 9, crowdsourced labels.
    """
    _check_annotations(annotations, num_classes)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}")
    tol = C.check_nonnegative_number(tol, "tol")
    s = C.check_nonnegative_number(smoothing, "smoothing")
    out = dtype or torch.get_default_dtype()
    k = num_classes
    onehot = _one_hot(annotations, k, torch.float64)  # (N, A, K)
    observed = onehot.sum(-1)  # (N, A): 1 where annotator a labelled item n
    posteriors = majority_vote(annotations, k, dtype=torch.float64)
    safe = annotations.clamp_min(0).long()
    annotator = torch.arange(annotations.shape[1], device=annotations.device)[None, :]
    log_likelihood, converged, n_iter = float("-inf"), False, 0
    for n_iter in range(1, max_iter + 1):
        # M-step: class frequencies and, per annotator, the soft counts of (true k, said l)
        priors = posteriors.mean(0)
        counts = torch.einsum("nk,nal->akl", posteriors, onehot) + s
        seen = torch.einsum("nk,na->ak", posteriors, observed)[..., None] + k * s
        # a (true class, annotator) pair with no soft count and s = 0 gets a uniform row
        confusion = torch.where(seen > 0, counts / seen.clamp_min(1e-300), torch.full_like(counts, 1.0 / k))
        # E-step in log space: log pi_k + sum_a log theta^(a)_{k, y_na}
        # (gathered, not an einsum with the one-hot: 0 * log 0 would be NaN when s = 0)
        log_theta = torch.log(confusion)[annotator, :, safe]  # (N, A, K): log theta^(a)_{k, y_na}
        log_theta = torch.where(observed[..., None] > 0, log_theta, torch.zeros_like(log_theta))
        log_joint = torch.log(priors) + log_theta.sum(1)
        log_evidence = torch.logsumexp(log_joint, dim=-1)
        posteriors = torch.exp(log_joint - log_evidence[:, None])
        previous, log_likelihood = log_likelihood, float(log_evidence.sum())
        if abs(log_likelihood - previous) <= tol * max(1.0, abs(log_likelihood)):
            converged = True
            break
    return DawidSkeneResult(posteriors=posteriors.to(out), confusion=confusion.to(out),
                            priors=priors.to(out), n_iter=n_iter,
                            log_likelihood=log_likelihood, converged=converged)
