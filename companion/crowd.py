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
        log_likelihood_trace: the log-likelihood after each iteration, ``n_iter`` floats; with
            ``smoothing=0`` (maximum likelihood) EM never lets it decrease.
    """

    posteriors: torch.Tensor
    confusion: torch.Tensor
    priors: torch.Tensor
    n_iter: int
    log_likelihood: float
    converged: bool
    log_likelihood_trace: tuple = ()


def _long_form(annotations, items, annotators, labels, num_classes, num_items, num_annotators):
    """Validate either layout and return (items, annotators, labels, N, A) as long tensors."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    long_given = [x is not None for x in (items, annotators, labels)]
    if annotations is not None:
        if any(long_given) or num_items is not None or num_annotators is not None:
            raise ValueError("give annotations either as the dense (N, A) tensor or as "
                             "items=, annotators=, labels= (long form), not both")
        _check_annotations(annotations, num_classes)
        n_items, n_annotators = annotations.shape
        observed = (annotations >= 0).nonzero()
        i, a = observed[:, 0], observed[:, 1]
        return i, a, annotations[i, a].long(), n_items, n_annotators
    if not all(long_given):
        raise ValueError("the long form needs all three of items=, annotators= and labels= "
                         "(or pass the dense (N, A) annotations)")
    for name, x in (("items", items), ("annotators", annotators), ("labels", labels)):
        C.check_tensor(x, name)
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
            raise TypeError(f"{name} must be an integer tensor, got dtype {x.dtype}")
        if x.dim() != 1:
            raise ValueError(f"{name} must be 1-D (one entry per annotation), got shape "
                             f"{tuple(x.shape)}")
    if not items.shape == annotators.shape == labels.shape:
        raise ValueError(f"items, annotators and labels must have the same length, got "
                         f"{items.numel()}, {annotators.numel()} and {labels.numel()}")
    C.check_same_device("items", items, "annotators", annotators)
    C.check_same_device("items", items, "labels", labels)
    counts = []
    for name, x, given in (("items", items, num_items), ("annotators", annotators,
                                                          num_annotators)):
        if given is not None and (isinstance(given, bool) or not isinstance(given, int)
                                  or given < 0):
            raise ValueError(f"num_{name} must be an int >= 0, got {given!r}")
        hi = int(x.max()) + 1 if x.numel() else 0
        if x.numel() and int(x.min()) < 0:
            raise ValueError(f"{name} has negative index {int(x.min())}")
        if given is not None and hi > given:
            raise ValueError(f"{name} has index {hi - 1} but num_{name} is {given}")
        counts.append(hi if given is None else given)
    if labels.numel():
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"labels has class index {lo if lo < 0 else hi} but num_classes "
                             f"is {num_classes}")
    return items.long(), annotators.long(), labels.long(), counts[0], counts[1]


def _votes(i, labels, n_items, k):
    """(N, K) counts of each label per item, by scatter-add over the annotations."""
    votes = torch.zeros(n_items, k, dtype=torch.float64, device=labels.device)
    return votes.index_put_((i, labels), torch.ones_like(labels, dtype=torch.float64),
                            accumulate=True)


def dawid_skene(annotations=None, num_classes=None, *, items=None, annotators=None,
                labels=None, num_items=None, num_annotators=None, max_iter=100, tol=1e-6,
                smoothing=0.0, dtype=None):
    r"""Dawid-Skene EM: true-label posteriors and a confusion matrix per annotator.

    Each item has a latent true class :math:`k` with prior :math:`\pi_k`; annotator :math:`a`
    reports :math:`l` with probability :math:`\theta^{(a)}_{kl}`, independently of the other
    annotators given :math:`k`. EM alternates

    .. math::

        \begin{aligned}
        \text{E:}\quad & T_{nk} \propto \pi_k
            \prod_{(n, a, l)\ \text{observed}} \theta^{(a)}_{k l},\\
        \text{M:}\quad & \pi_k = \frac1N \sum_n T_{nk},\qquad
        \theta^{(a)}_{kl} = \frac{s + \sum_{(n, a, l)} T_{nk}}
                                 {K s + \sum_{(n, a, \cdot)} T_{nk}},
        \end{aligned}

    starting from the majority-vote fractions as :math:`T`. The annotations are taken in long
    form, one ``(item, annotator, label)`` triple per annotation (the layout of crowdsourcing
    data sets and of crowd-kit), and each iteration costs :math:`O(\mathrm{nnz}\,K)` time and
    memory: the E-step gathers :math:`\log\theta` per annotation and scatter-adds it per
    item, the M-step scatter-adds the posteriors per (annotator, label); nothing of size
    :math:`N \times A` is formed. A dense ``(N, A)`` tensor with ``-1`` for missing
    annotations is accepted too and converted. Iteration stops when the log-likelihood changes
    by less than ``tol * max(1, |log L|)``.

    The default ``smoothing=0`` is maximum likelihood, which no number of annotators can
    swamp. A pseudo-count :math:`s > 0` is a Dirichlet prior on every confusion row; it adds
    :math:`s` per cell *per annotator*, so with many annotators who each label a few items it
    dominates the estimate (with 30,000 single-item annotators, :math:`s = 0.01` moves a
    posterior from 1/3 to 0.07). A confusion row with no soft count at all (an annotator who
    never labelled an item of class :math:`k`) is uniform, and :math:`\log 0` from an unseen
    (class, label) pair is floored at float64's smallest normal number, so no posterior is NaN.

    Args:
        annotations: ``(N, A)`` integer tensor of class indices, ``-1`` where annotator ``a``
            did not label item ``n`` (the dense form); or None with the long form below.
        num_classes: :math:`K \ge 2`.
        items, annotators, labels: the long form: three ``(M,)`` integer tensors, annotation
            ``m`` saying that annotator ``annotators[m]`` gave item ``items[m]`` the label
            ``labels[m]``.
        num_items, num_annotators: :math:`N` and :math:`A` for the long form (default: the
            largest index plus one).
        max_iter: maximum number of EM iterations (at least 1).
        tol: relative tolerance on the change of the log-likelihood.
        smoothing: the pseudo-count :math:`s \ge 0` added to every confusion cell.
        dtype: floating dtype of the returned tensors (default
            ``torch.get_default_dtype()``); the EM itself runs in float64.

    Returns:
        A :class:`DawidSkeneResult` with ``posteriors (N, K)``, ``confusion (A, K, K)``,
        ``priors (K,)``, ``n_iter``, ``log_likelihood``, ``converged`` and
        ``log_likelihood_trace``. Zero items give an ``(0, K)`` posterior, uniform priors and
        a log-likelihood of 0.

    Raises:
        TypeError: an annotation tensor is not an integer tensor, or a number argument has
            the wrong type.
        ValueError: the layouts are mixed or incomplete, shapes disagree, an index or label is
            out of range, ``num_classes < 2``, ``max_iter < 1``, or ``tol`` or ``smoothing``
            is negative or not finite.

    Example:
        >>> import torch
        >>> from companion import dawid_skene
        >>> votes = torch.tensor([[0, 0, 1], [1, 1, 1], [0, 0, 0],
        ...                       [1, 0, 1], [0, -1, 1]])
        >>> result = dawid_skene(votes, 2)
        >>> result.posteriors.argmax(-1).tolist(), result.n_iter < 100
        ([0, 1, 0, 1, 0], True)
        >>> i, a = (votes >= 0).nonzero().unbind(1)  # the same annotations in long form
        >>> long = dawid_skene(items=i, annotators=a, labels=votes[i, a], num_classes=2)
        >>> torch.allclose(long.posteriors, result.posteriors)
        True

    References:
        Dawid and Skene (1979), *Maximum likelihood estimation of observer error-rates using
        the EM algorithm*, https://doi.org/10.2307/2346806.

    See also:
        Chapter 9, crowdsourced labels.
    """
    i, a, lab, n_items, n_annotators = _long_form(annotations, items, annotators, labels,
                                                  num_classes, num_items, num_annotators)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}")
    tol = C.check_nonnegative_number(tol, "tol")
    s = C.check_nonnegative_number(smoothing, "smoothing")
    out = dtype or torch.get_default_dtype()
    k = num_classes
    device = lab.device
    if n_items == 0:
        return DawidSkeneResult(
            posteriors=torch.zeros(0, k, dtype=out, device=device),
            confusion=torch.full((n_annotators, k, k), 1.0 / k, dtype=out, device=device),
            priors=torch.full((k,), 1.0 / k, dtype=out, device=device), n_iter=0,
            log_likelihood=0.0, converged=True, log_likelihood_trace=())
    votes = _votes(i, lab, n_items, k)
    total = votes.sum(1, keepdim=True)
    posteriors = torch.where(total > 0, votes / total.clamp_min(1.0),
                             torch.full_like(votes, 1.0 / k))
    cell = a * k + lab                     # (annotator, label) of each annotation, flattened
    floor = torch.finfo(torch.float64).tiny
    log_likelihood, converged, n_iter, trace = float("-inf"), False, 0, []
    for n_iter in range(1, max_iter + 1):
        # M-step: class frequencies and, per annotator, the soft counts of (true k, said l):
        # counts[a, l, :] = sum over a's annotations with label l of T[item, :]
        priors = posteriors.mean(0)
        counts = torch.zeros(n_annotators * k, k, dtype=torch.float64, device=device)
        counts.index_add_(0, cell, posteriors.index_select(0, i))
        counts = counts.view(n_annotators, k, k).transpose(1, 2) + s    # (A, true k, said l)
        seen = counts.sum(-1, keepdim=True)
        # a (true class, annotator) pair with no soft count and s = 0 gets a uniform row
        confusion = torch.where(seen > 0, counts / seen.clamp_min(floor),
                                torch.full_like(counts, 1.0 / k))
        # E-step in log space: log pi_k + sum over item n's annotations of log theta^(a)_{k l}
        log_theta = confusion.clamp_min(floor).log().transpose(1, 2).reshape(-1, k)
        log_joint = torch.log(priors.clamp_min(floor)).expand(n_items, k).clone()
        log_joint.index_add_(0, i, log_theta.index_select(0, cell))
        # normalise: one exp serves both the posteriors and log p(annotations of item n)
        top = log_joint.amax(1, keepdim=True)
        posteriors = log_joint.sub_(top).exp_()
        norm = posteriors.sum(1, keepdim=True)
        posteriors.div_(norm)
        log_evidence = top + norm.log()
        previous, log_likelihood = log_likelihood, float(log_evidence.sum())
        trace.append(log_likelihood)
        if abs(log_likelihood - previous) <= tol * max(1.0, abs(log_likelihood)):
            converged = True
            break
    return DawidSkeneResult(posteriors=posteriors.to(out), confusion=confusion.to(out),
                            priors=priors.to(out), n_iter=n_iter,
                            log_likelihood=log_likelihood, converged=converged,
                            log_likelihood_trace=tuple(trace))
