"""Knowledge distillation: temperature-softened distributions and the distillation loss.

The book's Chapter 11.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _checks as C
from .core import _soft_cross_entropy, _SoftCrossEntropy

__all__ = ["softmax_with_temperature", "distillation_loss"]


def softmax_with_temperature(logits, temperature, dim=-1):
    r"""Softmax of logits divided by a temperature.

    .. math::

        p^{T}_k = \frac{\exp(z_k / T)}{\sum_j \exp(z_j / T)}

    :math:`T > 1` flattens the distribution and exposes the ranking of the non-argmax classes
    ("dark knowledge"); :math:`T \to 0` approaches the one-hot argmax; :math:`T = 1` is the
    plain softmax.

    Args:
        logits: floating tensor, class axis ``dim``; half precision is computed in float32.
            ``-inf`` gives probability 0; ``+inf`` or NaN give NaN.
        temperature: :math:`T > 0`, finite.
        dim: the class axis.

    Returns:
        Probabilities with the shape and dtype of ``logits``.

    Raises:
        TypeError: ``logits`` is not floating or ``temperature`` is not a number.
        ValueError: ``temperature`` is not positive.

    Example:
        >>> import torch
        >>> from companion import softmax_with_temperature
        >>> z = torch.tensor([3.0, 1.0, 0.0])
        >>> [round(v, 3) for v in softmax_with_temperature(z, 1.0).tolist()]
        [0.844, 0.114, 0.042]
        >>> [round(v, 3) for v in softmax_with_temperature(z, 4.0).tolist()]
        [0.481, 0.292, 0.227]

    References:
        Hinton, Vinyals and Dean (2015), *Distilling the knowledge in a neural network*,
        https://arxiv.org/abs/1503.02531.

    See also:
        Chapter 11, knowledge distillation.
    """
    C.check_floating(logits, "logits")
    t = C.check_temperature(temperature)
    z = logits.to(C.compute_dtype(logits))
    return torch.softmax(z / t, dim=dim).to(logits.dtype)


def distillation_loss(student_logits, teacher_logits, *, temperature=1.0, scale_by_t2=True,
                      reduction="mean"):
    r"""Cross-entropy between the softened teacher and student distributions (Hinton et al.).

    .. math::

        \begin{aligned}
        \ell &= -c\,\sum_k p^{T}_k(z^{t}) \log p^{T}_k(z^{s}),
        \qquad c = T^2 \text{ if } \texttt{scale\_by\_t2} \text{ else } 1,\\
        \frac{\partial \ell}{\partial z^{s}_k} &= \frac{c}{T}\bigl(p^T_k(z^s) - p^T_k(z^t)\bigr)
        \end{aligned}

    The :math:`T^2` factor keeps the gradient's size comparable across temperatures, so the
    soft term can be mixed with a hard-label cross-entropy without retuning. This is
    ``F.cross_entropy(student / T, softmax(teacher / T)) * T**2``; it differs from
    ``F.kl_div`` only by the teacher's entropy, a constant for the student. Gradients flow into
    the teacher logits too: pass ``teacher_logits.detach()`` when the teacher is not trained.

    Args:
        student_logits: ``(..., K)`` student logits; half precision is computed in float32.
            ``-inf`` marks a masked class: it contributes 0 where the teacher gives it no mass
            and makes the loss ``+inf`` where the teacher does.
        teacher_logits: ``(..., K)`` teacher logits, same shape; ``-inf`` gives a class
            teacher probability 0. ``+inf`` or NaN logits give NaN.
        temperature: :math:`T > 0`, finite.
        scale_by_t2: multiply by :math:`T^2`.
        reduction: ``"mean"`` (over all leading positions) | ``"sum"`` | ``"none"``.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; the ``(...)`` per-example losses for
        ``"none"``, in the student's dtype.

    Raises:
        TypeError: a logits argument is not floating, or ``temperature`` is not a number.
        ValueError: the shapes differ, ``temperature`` is not positive, or ``reduction`` is
            unknown.

    Example:
        >>> import torch
        >>> from companion import distillation_loss
        >>> student = torch.tensor([[1.0, 0.5, -1.0]])
        >>> teacher = torch.tensor([[4.0, 2.0, -2.0]])
        >>> round(distillation_loss(student, teacher, temperature=2.0).item(), 4)
        3.4557

    References:
        Hinton, Vinyals and Dean (2015), *Distilling the knowledge in a neural network*,
        https://arxiv.org/abs/1503.02531.

    See also:
        Chapter 11, knowledge distillation.
    """
    C.check_logits(student_logits, "student_logits")
    C.check_logits(teacher_logits, "teacher_logits")
    C.check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    C.check_same_device("student_logits", student_logits, "teacher_logits", teacher_logits)
    t = C.check_temperature(temperature)
    C.check_reduction(reduction)
    dtype = C.compute_dtype(student_logits)
    z = student_logits.to(dtype)
    p = torch.softmax(teacher_logits.to(dtype) / t, dim=-1)
    if p.requires_grad and torch.is_grad_enabled():
        # gradients reach the teacher through the composed form; a class the teacher rules
        # out (p = 0) contributes 0 even where the student's logit is -inf
        loss = _soft_cross_entropy(F.log_softmax(z / t, dim=-1), p, reduction)
    else:
        # the soft-target cross-entropy's closed-form gradient, (c/T)(p^T(z^s) - p^T(z^t))
        loss = _SoftCrossEntropy.apply(z, p, reduction, float(t))
    if scale_by_t2:
        loss = loss * (t * t)
    return loss.to(student_logits.dtype)
