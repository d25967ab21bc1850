"""The energy view of a classifier and out-of-distribution scores.

The book's Chapter 18.
"""
from __future__ import annotations

import math

import torch

from . import _checks as C

__all__ = ["energy_score", "ood_metrics"]


def energy_score(logits, *, temperature=1.0):
    r"""Free energy of the logits: :math:`E(x) = -T \log \sum_k \exp(z_k / T)`.

    .. math::

        E(x; T) = -T \operatorname{logsumexp}_k\, (z_k / T)

    Reading the logits as negative energies, :math:`z_k = -E(x, k)`, the softmax is a Gibbs
    distribution and :math:`E(x)` is :math:`-T` times its log partition function. In-distribution
    inputs tend to have larger logits and so *lower* energy; to use it with :func:`ood_metrics`
    (higher score = more in-distribution) pass ``-energy_score(...)``. As :math:`T \to 0` it
    tends to :math:`-\max_k z_k`.

    Args:
        logits: ``(..., K)`` logits; half precision is computed in float32. ``-inf`` marks a
            masked class (it adds nothing to the sum); a row of ``-inf`` has energy ``+inf``.
            ``+inf`` or NaN logits give ``-inf`` or NaN.
        temperature: :math:`T > 0`, finite.

    Returns:
        ``(...)`` energies in the dtype of ``logits``.

    Raises:
        TypeError: ``logits`` is not floating or ``temperature`` is not a number.
        ValueError: ``temperature`` is not positive.

    Example:
        >>> import torch
        >>> from companion import energy_score
        >>> z = torch.tensor([[5.0, 0.0, 0.0], [0.5, 0.4, 0.6]])
        >>> # the confident input has the lower energy
        >>> [round(v, 4) for v in energy_score(z).tolist()]
        [-5.0134, -1.6019]

    References:
        Liu, Wang, Owens and Li (2020), *Energy-based out-of-distribution detection*,
        https://arxiv.org/abs/2010.03759; LeCun et al. (2006), *A tutorial on energy-based
        learning*.

    See also:
        Chapter 18, the energy-based view and out-of-distribution detection.
    """
    C.check_logits(logits)
    t = C.check_temperature(temperature)
    z = logits.to(C.compute_dtype(logits))
    k = z.shape[-1]
    if k == 0:  # an empty sum: +inf, as -t * logsumexp gives
        return (-t * torch.logsumexp(z / t, dim=-1)).to(logits.dtype)
    flat = z.reshape(-1, k)
    if torch.is_grad_enabled() and flat.requires_grad:
        energy = _Energy.apply(flat, t)
    else:
        energy = _energy_rows(flat, t)[0]
    return energy.reshape(z.shape[:-1]).to(logits.dtype)


def _energy_rows(z, t):
    """``-t logsumexp(z / t)`` of each row of ``z`` (n, K), with the shift ``m`` (each row's
    largest logit, 0 where that is not finite) and ``s = sum_k exp((z_k - m) / t)``, as
    ``-(m + t log s)``. The exponentials are taken as ``exp2`` (C.LOG2E), on the CPU a block
    of rows at a time (C.row_sums): no temporary of the logits' size, where
    ``torch.logsumexp`` makes one."""
    m = torch.amax(z, 1)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    s = C.row_sums(z, lambda lo, hi, buf: torch.sub(z[lo:hi], m[lo:hi].unsqueeze(1), out=buf)
                   .mul_(C.LOG2E / t).exp2_())
    return (m + t * torch.log(s)).neg_(), m, s


class _Energy(torch.autograd.Function):
    """The energy of each row with its closed-form gradient ``-g softmax(z / t)``, written a
    block of rows at a time; double backward differentiates the composed form."""

    @staticmethod
    def forward(ctx, z, t):
        energy, m, s = _energy_rows(z, t)
        ctx.save_for_backward(z, m, s)
        ctx.t = t
        return energy

    @staticmethod
    def backward(ctx, grad_output):
        z, m, s = ctx.saved_tensors
        t = ctx.t
        if torch.is_grad_enabled():  # double backward: differentiate the composed form
            energy = -t * torch.logsumexp(z / t, dim=-1)
            (grad,) = torch.autograd.grad(energy, z, grad_output, create_graph=True)
            return grad, None
        n, k = z.shape
        coef = (grad_output / s).neg_().unsqueeze(1)   # -g / s: softmax = exp((z - m) / t) / s
        grad = torch.empty((n, k), dtype=z.dtype, device=z.device)
        for lo, hi in C.row_blocks(n, k, z.device):
            b = torch.sub(z[lo:hi], m[lo:hi].unsqueeze(1), out=grad[lo:hi])
            b.mul_(C.LOG2E / t).exp2_().mul_(coef[lo:hi])
        return grad, None


def _average_ranks(x: torch.Tensor) -> torch.Tensor:
    """1-based ranks with ties sharing the mean of the ranks they span."""
    order = torch.argsort(x)
    sorted_x = x[order]
    _, inverse, counts = torch.unique_consecutive(sorted_x, return_inverse=True, return_counts=True)
    # a tie group spanning ranks a..b gets (a + b) / 2, with b the cumulative count
    last = torch.cumsum(counts, 0).to(torch.float64)
    mean_rank = last - (counts.to(torch.float64) - 1) / 2
    ranks = torch.empty_like(mean_rank[inverse])
    ranks[order] = mean_rank[inverse]
    return ranks


def ood_metrics(score_in, score_out):
    r"""AUROC and FPR at 95% TPR for separating in-distribution from out-of-distribution inputs.

    Convention: **a higher score means more in-distribution** (use the maximum softmax
    probability, or the negative energy ``-energy_score(logits)``). In-distribution inputs are
    the positives.

    .. math::

        \mathrm{AUROC} = P(s_{\mathrm{in}} > s_{\mathrm{out}}) + \tfrac12 P(s_{\mathrm{in}} = s_{\mathrm{out}})
        = \frac{R_{\mathrm{in}} - n_{\mathrm{in}}(n_{\mathrm{in}}+1)/2}{n_{\mathrm{in}}\, n_{\mathrm{out}}}

    computed from the rank sum :math:`R_{\mathrm{in}}` of the in-distribution scores among all
    scores, with tied scores sharing their average rank (Mann-Whitney), so ties count one half.
    ``fpr_at_95_tpr`` is the fraction of OOD inputs with :math:`s \ge t`, where :math:`t` is the
    largest threshold that keeps at least 95% of the in-distribution inputs (:math:`s \ge t`).
    0.5 and 0.95 mean no separation; 1.0 and 0.0 perfect separation.

    Args:
        score_in: 1-D floating tensor of scores of in-distribution inputs (non-empty).
        score_out: 1-D floating tensor of scores of OOD inputs (non-empty), same device.

    Returns:
        ``{"auroc": float, "fpr_at_95_tpr": float}``.

    Raises:
        TypeError: a score tensor is not floating.
        ValueError: a score tensor is not 1-D, is empty, or holds NaN.

    Example:
        >>> import torch
        >>> from companion import ood_metrics
        >>> inside = torch.tensor([3.0, 2.0, 2.0, 1.0])
        >>> outside = torch.tensor([2.0, 0.0, -1.0])
        >>> m = ood_metrics(inside, outside)
        >>> round(m["auroc"], 4), round(m["fpr_at_95_tpr"], 4)
        (0.8333, 0.3333)

    References:
        Hendrycks and Gimpel (2017), *A baseline for detecting misclassified and
        out-of-distribution examples in neural networks*, https://arxiv.org/abs/1610.02136.

    See also:
        Chapter 18, the energy-based view and out-of-distribution detection.
    """
    for name, s in (("score_in", score_in), ("score_out", score_out)):
        C.check_floating(s, name)
        if s.dim() != 1 or s.numel() == 0:
            raise ValueError(f"{name} must be a non-empty 1-D tensor of scores, got shape {tuple(s.shape)}")
        if bool(torch.isnan(s).any()):
            raise ValueError(f"{name} holds NaN; scores must be comparable numbers")
    C.check_same_device("score_in", score_in, "score_out", score_out)
    s_in, s_out = score_in.to(torch.float64), score_out.to(torch.float64)
    n_in, n_out = s_in.numel(), s_out.numel()
    ranks = _average_ranks(torch.cat([s_in, s_out]))
    auroc = (ranks[:n_in].sum().item() - n_in * (n_in + 1) / 2) / (n_in * n_out)
    # the ceil(0.95 n_in)-th largest in-score: the highest threshold with TPR >= 95%
    k = math.ceil(0.95 * n_in)
    threshold = torch.sort(s_in, descending=True).values[k - 1]
    fpr = (s_out >= threshold).to(torch.float64).mean().item()
    return {"auroc": auroc, "fpr_at_95_tpr": fpr}
