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


def dawid_skene(annotations, num_classes, *, max_iter=100, tol=1e-6, smoothing=0.01, dtype=None):
    """EM for the Dawid-Skene model, initialised from the majority vote.

    Returns a dict with posteriors (N, K), confusion (A, K, K), priors (K,), n_iter and
    log_likelihood, following the kernel's update order and stopping rule.
    """
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
                log_joint = np.log(priors).copy()
                for a in range(n_annotators):
                    if y[n, a] >= 0:
                        log_joint += np.log(confusion[a, :, y[n, a]])
            top = log_joint.max()
            log_evidence = top + math.log(np.exp(log_joint - top).sum())
            T[n] = np.exp(log_joint - log_evidence)
            total += log_evidence
        previous, log_likelihood = log_likelihood, total
        if abs(log_likelihood - previous) <= tol * max(1.0, abs(log_likelihood)):
            break
    return {"posteriors": T, "confusion": confusion, "priors": priors, "n_iter": n_iter,
            "log_likelihood": log_likelihood}
