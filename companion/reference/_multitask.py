"""References for companion.multitask."""
import numpy as np


def uncertainty_weighting(losses, log_var):
    """sum_i exp(-s_i) L_i + s_i with s_i = log sigma_i^2 (the value of UncertaintyWeighting)."""
    losses = np.asarray(losses, dtype=np.float64)
    s = np.asarray(log_var, dtype=np.float64)
    return np.sum(np.exp(-s) * losses + s)


def gradient_cosine(grad_a, grad_b):
    """cos = g_a . g_b / (|g_a| |g_b|) on the flattened gradients (0 if either is zero).

    Unlike the kernel, which differentiates two losses, the reference takes the two gradients.
    """
    a = np.concatenate([np.ravel(np.asarray(g, dtype=np.float64)) for g in grad_a])
    b = np.concatenate([np.ravel(np.asarray(g, dtype=np.float64)) for g in grad_b])
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    return a @ b / norms if norms > 0 else 0.0
