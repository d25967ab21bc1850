"""References for companion.crowd: Dawid-Skene written with explicit loops, item by item."""
import math

import numpy as np


def majority_vote(annotations, num_classes, *, dtype=None):
    """v_nk = (number of annotators of item n who said k) / (number who labelled n)."""
    annotations = np.asarray(annotations)
    n_items, n_annotators = annotations.shape
    votes = np.zeros((n_items, num_classes))
    for n in range(n_items):
        said = [annotations[n, a] for a in range(n_annotators) if annotations[n, a] >= 0]
        if not said:
            votes[n] = 1.0 / num_classes
            continue
        for label in said:
            votes[n, label] += 1.0 / len(said)
    return votes


def dawid_skene(annotations=None, num_classes=None, *, items=None, annotators=None,
                labels=None, num_items=None, num_annotators=None, max_iter=100, tol=1e-6,
                smoothing=0.0, dtype=None):
    """EM for the Dawid-Skene model, initialised from the majority vote.

    Returns a dict with posteriors (N, K), confusion (A, K, K), priors (K,), n_iter and
    log_likelihood, following the kernel's update order and stopping rule. The long form
    (items, annotators, labels) is written into the dense (N, A) table first.
    """
    if annotations is None:
        items, annotators, labels = (np.asarray(x) for x in (items, annotators, labels))
        n = num_items if num_items is not None else (items.max() + 1 if items.size else 0)
        a = (num_annotators if num_annotators is not None
             else (annotators.max() + 1 if annotators.size else 0))
        annotations = np.full((n, a), -1)
        annotations[items, annotators] = labels
    y = np.asarray(annotations)
    n_items, n_annotators = y.shape
    k = num_classes
    T = majority_vote(y, k)
    log_likelihood = -math.inf
    for n_iter in range(1, max_iter + 1):
        # M-step: pi_k = mean_n T_nk
        priors = T.sum(axis=0) / n_items
        # theta^(a)_{kl} = (s + sum_n T_nk [y_na = l]) / (K s + sum_n T_nk [y_na labelled])
        confusion = np.full((n_annotators, k, k), float(smoothing))
        for a in range(n_annotators):
            for n in range(n_items):
                if y[n, a] >= 0:
                    for true in range(k):
                        confusion[a, true, y[n, a]] += T[n, true]
            for true in range(k):
                row = confusion[a, true].sum()
                confusion[a, true] = confusion[a, true] / row if row > 0 else 1.0 / k
        # E-step: T_nk proportional to pi_k prod_a theta^(a)_{k, y_na}, normalised in log space
        total = 0.0
        for n in range(n_items):
            with np.errstate(divide="ignore"):  # log 0 = -inf is meant when smoothing is 0
                log_joint = np.log(np.maximum(priors, np.finfo(np.float64).tiny)).copy()
                for a in range(n_annotators):
                    if y[n, a] >= 0:
                        # log 0 floored at the smallest normal float64, as the kernel does
                        log_joint += np.log(np.maximum(confusion[a, :, y[n, a]],
                                                       np.finfo(np.float64).tiny))
            top = log_joint.max()
            log_evidence = top + math.log(np.exp(log_joint - top).sum())
            T[n] = np.exp(log_joint - log_evidence)
            total += log_evidence
        previous, log_likelihood = log_likelihood, total
        if abs(log_likelihood - previous) <= tol * max(1.0, abs(log_likelihood)):
            break
    return {"posteriors": T, "confusion": confusion, "priors": priors, "n_iter": n_iter,
            "log_likelihood": log_likelihood}
