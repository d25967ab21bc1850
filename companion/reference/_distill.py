"""References for companion.distill."""
import numpy as np

from ._common import log_softmax, reduce
from ._core import _times_log


def softmax_with_temperature(logits, temperature, dim=-1):
    """p^T = softmax(z / T)."""
    return np.exp(log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=dim))


def distillation_loss(student_logits, teacher_logits, *, temperature=1.0, scale_by_t2=True,
                      reduction="mean"):
    """loss = -c sum_k p^T_k(teacher) log p^T_k(student), c = T^2 or 1."""
    t = temperature
    p_teacher = softmax_with_temperature(teacher_logits, t)
    log_p_student = log_softmax(np.asarray(student_logits, dtype=np.float64) / t)
    loss = -np.sum(_times_log(p_teacher, log_p_student), axis=-1) * (t * t if scale_by_t2 else 1.0)
    return reduce(loss, reduction)
