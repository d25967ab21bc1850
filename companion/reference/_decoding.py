"""References for companion.decoding (not yet re-exported from companion.reference)."""
import itertools

import numpy as np


def viterbi_decode(emissions, transitions, initial=None):
    """Best path by exhaustive dynamic programming over one sequence at a time, in float64."""
    e = np.asarray(emissions, dtype=np.float64)
    length, k = e.shape[-2:]
    a = np.broadcast_to(np.asarray(transitions, dtype=np.float64), e.shape[:-2] + (k, k))
    pi = np.zeros(k) if initial is None else np.asarray(initial, dtype=np.float64)
    pi = np.broadcast_to(pi, e.shape[:-2] + (k,))
    paths = np.zeros(e.shape[:-1], dtype=np.int64)
    scores = np.zeros(e.shape[:-2])
    for index in np.ndindex(e.shape[:-2]):
        best = pi[index] + e[index][0]
        back = np.zeros((length, k), dtype=np.int64)
        for i in range(1, length):
            new = np.empty(k)
            for to in range(k):
                cand = best + a[index][:, to]
                back[i, to] = int(np.argmax(cand))      # first maximum: lowest index
                new[to] = cand[back[i, to]] + e[index][i, to]
            best = new
        state = int(np.argmax(best))
        scores[index] = best[state]
        for i in range(length - 1, -1, -1):
            paths[index + (i,)] = state
            state = back[i, state]
    return paths, scores


def brute_force_best_score(emissions, transitions, initial=None):
    """max over all K**L strings of the total score (for tiny L and K)."""
    e = np.asarray(emissions, dtype=np.float64)
    a = np.asarray(transitions, dtype=np.float64)
    length, k = e.shape
    pi = np.zeros(k) if initial is None else np.asarray(initial, dtype=np.float64)
    best = -np.inf
    for s in itertools.product(range(k), repeat=length):
        total = pi[s[0]] + sum(e[i, s[i]] for i in range(length))
        total += sum(a[s[i - 1], s[i]] for i in range(1, length))
        best = max(best, total)
    return best


def majority_filter(labels, width, num_classes):
    """Most frequent label in the (cut) window; the centre label wins ties, then the lowest."""
    lab = np.asarray(labels)
    out = np.empty_like(lab, dtype=np.int64)
    r = width // 2
    length = lab.shape[-1]
    for index in np.ndindex(lab.shape[:-1]):
        row = lab[index]
        for i in range(length):
            window = row[max(0, i - r):min(length, i + r + 1)]
            counts = np.bincount(window, minlength=num_classes)
            top = np.flatnonzero(counts == counts.max())
            out[index + (i,)] = row[i] if row[i] in top else top[0]
    return out
