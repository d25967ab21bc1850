"""References for companion.energy."""
import math

import numpy as np


def energy_score(logits, *, temperature=1.0):
    """E = -T log sum_k exp(z_k / T), with the maximum shifted out."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    m = np.max(z, axis=-1)
    return -temperature * (m + np.log(np.sum(np.exp(z - m[..., None]), axis=-1)))


def ood_metrics(score_in, score_out):
    """AUROC = P(s_in > s_out) + P(s_in = s_out) / 2 over all pairs; FPR of OOD at 95% TPR."""
    s_in = np.asarray(score_in, dtype=np.float64)
    s_out = np.asarray(score_out, dtype=np.float64)
    wins = sum(float(a > b) + 0.5 * float(a == b) for a in s_in for b in s_out)
    auroc = wins / (len(s_in) * len(s_out))
    threshold = np.sort(s_in)[::-1][math.ceil(0.95 * len(s_in)) - 1]
    return {"auroc": auroc, "fpr_at_95_tpr": float(np.mean(s_out >= threshold))}
