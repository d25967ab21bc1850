"""References for companion.tabular."""
import math

import numpy as np

from ._common import log_softmax, softplus
from ._core import _times_log


def mixed_reconstruction_loss(outputs, batch, spec):
    """Per row: BCE over binaries + squared error / 2 (or Gaussian NLL) + CE per one-hot group."""
    o = np.asarray(outputs, dtype=np.float64)
    x = np.asarray(batch, dtype=np.float64)
    n = max(len(o), 1)  # an empty batch: every part is 0
    binary = sum(x[:, j] * softplus(-o[:, j]) + (1 - x[:, j]) * softplus(o[:, j])
                 for j in spec.get("binary", []))
    if spec.get("continuous_loss", "squared_error") == "squared_error":
        continuous = sum(0.5 * (o[:, j] - x[:, j]) ** 2 for j in spec.get("continuous", []))
    else:
        continuous = sum(0.5 * (o[:, v] + (o[:, j] - x[:, j]) ** 2 * np.exp(-o[:, v]) + math.log(2 * math.pi))
                         for j, v in zip(spec["continuous"], spec["log_var"]))
    categorical = sum(-np.sum(_times_log(x[:, g], log_softmax(o[:, g])), axis=-1)
                      for g in spec.get("categorical", []))
    out = {name: float(np.sum(part) / n) for name, part in
           (("binary", binary), ("continuous", continuous), ("categorical", categorical))}
    out["total"] = out["binary"] + out["continuous"] + out["categorical"]
    return out
