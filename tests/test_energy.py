"""Energy score and OOD metrics (companion.energy)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, snapshot


def _np(t):
    return t.detach().double().cpu().numpy()


@pytest.mark.parametrize("temperature", [0.1, 1.0, 7.0])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_energy_matches_reference(temperature, dtype, atol, rtol, device, gen):
    z = rand(4, 27, 9, gen=gen, scale=3.0).to(dtype).to(device)
    got = companion.energy_score(z, temperature=temperature)
    assert got.dtype == dtype and got.shape == (4, 27)
    want = R.energy_score(_np(z), temperature=temperature)
    np.testing.assert_allclose(_np(got), want, atol=atol * 20, rtol=rtol)


def test_energy_is_minus_log_partition_and_gradient_is_softmax(gen):
    """L = E(x, y) + log Z: the CE gradient is -onehot (positive phase) + softmax (negative phase)."""
    z = rand(8, 5, gen=gen).requires_grad_()
    y = torch.arange(8) % 5
    energy = companion.energy_score(z)
    torch.testing.assert_close(energy, -torch.logsumexp(z, -1))
    g, = torch.autograd.grad(-energy.sum(), z)  # d log Z / dz = softmax(z)
    torch.testing.assert_close(g, torch.softmax(z, -1))
    ce = F.cross_entropy(z, y, reduction="sum")
    torch.testing.assert_close(ce, (-z.gather(1, y[:, None]).squeeze(1) - energy).sum())
    assert torch.autograd.gradcheck(lambda a: companion.energy_score(a, temperature=0.3), (z,))
    # T -> 0 approaches -max
    torch.testing.assert_close(companion.energy_score(z, temperature=1e-4), -z.max(-1).values, atol=1e-3, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_energy_extreme_logits(dtype):
    z = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]).to(dtype).requires_grad_()
    out = companion.energy_score(z, temperature=0.5)
    out.sum().backward()
    assert bool(torch.isfinite(out).all()) and bool(torch.isfinite(z.grad).all())


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_energy_row_blocks_and_edge_rows_match_logsumexp(monkeypatch, temperature, gen):
    """On the CPU the energy and its gradient are taken a block of rows at a time: blocks
    of 2 rows must give what -T logsumexp(z / T) and autograd give, rows of masked (-inf)
    classes included, and the edge rows behave as logsumexp's do: all -inf gives +inf, a
    +inf logit -inf, a NaN NaN (the gradient of those rows is NaN in both)."""
    from companion import _checks
    monkeypatch.setattr(_checks, "ELEMENT_BLOCK", 2 * 6)
    z = rand(9, 6, gen=gen) * 4
    z[1, :3] = -torch.inf
    z[4] = -torch.inf
    z[6, 2] = torch.inf
    z[7, 5] = torch.nan
    w = rand(9, gen=gen)
    ours = z.clone().requires_grad_(True)
    e = companion.energy_score(ours, temperature=temperature)
    (e @ w).backward()
    ref = z.clone().requires_grad_(True)
    want = -temperature * torch.logsumexp(ref / temperature, -1)
    (want @ w).backward()
    torch.testing.assert_close(e.detach(), want.detach(), rtol=1e-12, atol=1e-12, equal_nan=True)
    torch.testing.assert_close(ours.grad, ref.grad, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert e[4] == torch.inf and e[6] == -torch.inf and e[7].isnan()
    assert torch.isfinite(ours.grad[[0, 1, 2, 3, 5, 8]]).all()
    assert (ours.grad[1, :3] == 0).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("ties", [False, True])
def test_ood_metrics_match_pairwise_reference(ties, device, gen):
    s_in = rand(301, gen=gen) + 1.0
    s_out = rand(157, gen=gen)
    if ties:  # coarse scores: many ties within and across the two sets
        s_in, s_out = s_in.round(), s_out.round()
    got = companion.ood_metrics(s_in.to(device), s_out.to(device))
    want = R.ood_metrics(s_in.numpy(), s_out.numpy())
    assert got["auroc"] == pytest.approx(want["auroc"], abs=1e-12)
    assert got["fpr_at_95_tpr"] == pytest.approx(want["fpr_at_95_tpr"], abs=1e-12)


def test_ood_metrics_edge_cases():
    perfect = companion.ood_metrics(torch.tensor([5.0, 6.0]), torch.tensor([1.0, 2.0, 3.0]))
    assert perfect == {"auroc": 1.0, "fpr_at_95_tpr": 0.0}
    same = companion.ood_metrics(torch.ones(10), torch.ones(7))
    assert same == {"auroc": 0.5, "fpr_at_95_tpr": 1.0}  # all tied: no separation
    flipped = companion.ood_metrics(torch.tensor([1.0, 2.0]), torch.tensor([5.0, 6.0]))
    assert flipped["auroc"] == 0.0 and flipped["fpr_at_95_tpr"] == 1.0
    half = companion.ood_metrics(torch.tensor([1.0, 2.0], dtype=torch.float16), torch.tensor([1.5]))
    assert half["auroc"] == 0.5


def test_energy_separates_in_from_out(gen):
    """Confident in-distribution logits vs flat OOD logits: -energy scores them higher."""
    z_in = rand(400, 10, gen=gen) + 6.0 * F.one_hot(torch.randint(10, (400,), generator=gen), 10)
    z_out = rand(400, 10, gen=gen)
    m = companion.ood_metrics(-companion.energy_score(z_in), -companion.energy_score(z_out))
    assert m["auroc"] > 0.95 and m["fpr_at_95_tpr"] < 0.2


def test_energy_inputs_unchanged_and_errors(gen):
    z, a, b = rand(3, 4, gen=gen), rand(5, gen=gen), rand(6, gen=gen)
    before = snapshot(z, a, b)
    companion.energy_score(z, temperature=2.0)
    companion.ood_metrics(a, b)
    assert_unchanged(before, z, a, b)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        companion.energy_score(z, temperature=0.0)
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        companion.energy_score(z.long())
    with pytest.raises(ValueError, match=r"score_in must be a non-empty 1-D tensor of scores, got shape \(3, 4\)"):
        companion.ood_metrics(z, b)
    with pytest.raises(ValueError, match="score_out must be a non-empty 1-D tensor"):
        companion.ood_metrics(a, torch.zeros(0))
    with pytest.raises(ValueError, match="score_out holds NaN"):
        companion.ood_metrics(a, torch.tensor([float("nan")]))
    with pytest.raises(TypeError, match="score_in must be a floating-point tensor"):
        companion.ood_metrics(torch.tensor([1, 2]), b)
