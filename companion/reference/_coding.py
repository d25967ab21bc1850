"""References for companion.coding: the textbook algorithms, written for clarity."""
import math

import numpy as np


def quantize_probs(probs, *, total_bits=16):
    """f_k = 1 + floor(p_k (T - K)), the T - sum f leftover counts to the largest fractions."""
    p = np.asarray(probs, dtype=np.float64)
    k = p.shape[-1]
    total = 2 ** total_bits
    out = np.zeros(p.shape, dtype=np.int64)
    for index in np.ndindex(p.shape[:-1]):
        row = p[index] / p[index].sum()
        scaled = row * (total - k)
        freqs = [1 + math.floor(s) for s in scaled]
        fractions = [s - math.floor(s) for s in scaled]
        leftover = total - sum(freqs)
        # largest fractional part first, ties to the lower index
        for j in sorted(range(k), key=lambda j: (-fractions[j], j))[:leftover]:
            freqs[j] += 1
        out[index] = freqs
    return out


def huffman_code_lengths(probs):
    """Huffman's construction with a plain list: merge the two lightest nodes until one is left."""
    p = np.asarray(probs, dtype=np.float64)
    k = p.shape[-1]
    out = np.zeros(p.shape, dtype=np.int64)
    for index in np.ndindex(p.shape[:-1]):
        nodes = [(float(w), [j]) for j, w in enumerate(p[index])]
        lengths = [0] * k
        while len(nodes) > 1:
            nodes.sort(key=lambda node: node[0])
            (w1, s1), (w2, s2) = nodes[0], nodes[1]
            for j in s1 + s2:
                lengths[j] += 1
            nodes = nodes[2:] + [(w1 + w2, s1 + s2)]
        out[index] = lengths
    return out
