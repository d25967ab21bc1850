"""References for companion.targets."""
import numpy as np
import torch


def smooth_labels(target, num_classes, alpha, *, dtype=None):
    """y^alpha = (1 - alpha) y + alpha / K, y the one-hot vector or the soft target."""
    target = np.asarray(target)
    k = num_classes
    y = target.astype(np.float64) if np.issubdtype(target.dtype, np.floating) else np.eye(k)[target]
    return (1 - alpha) * y + alpha / k


def ordinal_smooth_labels(target, num_classes, eps, *, dtype=None):
    """1 - eps on rank t, eps/2 on t - 1 and t + 1, eps on the only neighbour at an edge."""
    target = np.asarray(target)
    k = num_classes
    out = np.zeros(target.shape + (k,))
    for index in np.ndindex(target.shape):
        t = int(target[index])
        neighbours = [j for j in (t - 1, t + 1) if 0 <= j < k]
        out[index + (t,)] = 1 - eps
        for j in neighbours:
            out[index + (j,)] += eps / len(neighbours)
    return out


def mixup(x, y, alpha, *, generator=None):
    """x~ = lam x_i + (1 - lam) x_perm(i), y~ likewise, lam ~ Beta(alpha, alpha).

    The draws follow the kernel's documented protocol (a NumPy Beta sample seeded from the
    torch generator, then ``torch.randperm``), so that a test can compare the mixing itself.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha)) if alpha > 0 else 1.0
    perm = torch.randperm(len(x), generator=generator).numpy()
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm], lam
