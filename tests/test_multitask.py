"""Uncertainty weighting and gradient cosine (companion.multitask)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, snapshot


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_uncertainty_weighting_matches_reference(dtype, atol, rtol, device):
    weighting = companion.UncertaintyWeighting(3).to(device)
    with torch.no_grad():
        weighting.log_var.copy_(torch.tensor([0.3, -1.2, 2.0]))
    losses = torch.tensor([0.7, 2.5, 0.05], dtype=dtype, device=device)
    got = weighting(losses)
    assert got.dtype == dtype
    want = R.uncertainty_weighting(losses.double().cpu().numpy(), weighting.log_var.detach().double().cpu().numpy())
    np.testing.assert_allclose(got.double().item(), want, atol=atol * 10, rtol=rtol)
    # a list of scalar losses works too
    torch.testing.assert_close(weighting(list(losses.unbind())), got)


def test_uncertainty_weighting_optimum_and_gradients():
    """d/ds [e^-s L + s] = 1 - e^-s L: zero at s = log L, so sigma^2 tracks each task's loss."""
    weighting = companion.UncertaintyWeighting(2).double()
    losses = torch.tensor([0.2, 3.0], dtype=torch.float64, requires_grad=True)
    weighting(losses).backward()
    torch.testing.assert_close(weighting.log_var.grad, 1 - losses.detach())
    torch.testing.assert_close(losses.grad, torch.ones(2, dtype=torch.float64))
    opt = torch.optim.Adam(weighting.parameters(), lr=0.05)
    for _ in range(800):
        opt.zero_grad()
        weighting(losses.detach()).backward()
        opt.step()
    torch.testing.assert_close(weighting.log_var.detach(), losses.detach().log(), atol=1e-3, rtol=0)
    torch.testing.assert_close(weighting.weights(), 1 / losses.detach(), atol=1e-2, rtol=1e-3)
    assert torch.autograd.gradcheck(lambda l: weighting(l), (losses,))
    assert "num_tasks=2" in repr(weighting)


def test_uncertainty_weighting_large_log_var_finite():
    weighting = companion.UncertaintyWeighting(2)
    with torch.no_grad():
        weighting.log_var.copy_(torch.tensor([80.0, -80.0]))
    out = weighting(torch.tensor([1.0, 1e-30]))
    out.backward()
    assert torch.isfinite(out) and bool(torch.isfinite(weighting.log_var.grad).all())


@pytest.mark.parametrize("call,exc,match", [
    (lambda: companion.UncertaintyWeighting(0), ValueError, "num_tasks must be an int >= 1"),
    (lambda: companion.UncertaintyWeighting(2)(torch.ones(3)), ValueError, r"losses has shape \(3,\) but must have shape \(2,\)"),
    (lambda: companion.UncertaintyWeighting(2)([1.0, 2.0]), TypeError, "losses must be a tensor or a sequence"),
    (lambda: companion.UncertaintyWeighting(2)([torch.ones(2), torch.ones(1)]), ValueError, "losses must be scalar tensors"),
    (lambda: companion.UncertaintyWeighting(2)(torch.ones(2, dtype=torch.long)), TypeError,
     "losses must be a floating-point tensor"),
])
def test_uncertainty_weighting_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def _toy(gen, dtype=torch.float64, device="cpu"):
    trunk = torch.nn.Linear(4, 3).to(dtype).to(device)
    x = torch.randn(17, 4, generator=gen, dtype=torch.float64).to(dtype).to(device)
    h = trunk(x)
    return trunk, h[:, 0].square().mean(), (h[:, 1] - h[:, 2]).abs().mean()


@pytest.mark.parametrize("device", DEVICES)
def test_gradient_cosine_matches_reference(device, gen):
    trunk, la, lb = _toy(gen, device=device)
    params = list(trunk.parameters())
    got = companion.gradient_cosine(la, lb, params)
    ga = torch.autograd.grad(la, params, retain_graph=True)
    gb = torch.autograd.grad(lb, params)
    want = R.gradient_cosine([g.cpu().numpy() for g in ga], [g.cpu().numpy() for g in gb])
    assert got.item() == pytest.approx(want, rel=1e-10)


def test_gradient_cosine_properties(gen):
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    u = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    loss = (w ** 2).sum()
    assert companion.gradient_cosine(loss, 3 * loss, [w]).item() == pytest.approx(1.0)
    assert companion.gradient_cosine(loss, -loss, [w]).item() == pytest.approx(-1.0)
    # a parameter only one loss uses contributes zeros; an all-zero gradient gives 0, not NaN
    assert companion.gradient_cosine(loss, u.sum(), [w, u]).item() == 0.0
    assert companion.gradient_cosine(loss, (w * 0).sum(), [w]).item() == 0.0
    # the graphs survive: the losses can still be backpropagated
    companion.gradient_cosine(loss, 2 * loss, [w])
    loss.backward()
    torch.testing.assert_close(w.grad, 2 * w.detach())


def test_gradient_cosine_inputs_unchanged_and_errors(gen):
    trunk, la, lb = _toy(gen)
    before = snapshot(*[p.detach() for p in trunk.parameters()])
    companion.gradient_cosine(la, lb, trunk.parameters())
    assert_unchanged(before, *[p.detach() for p in trunk.parameters()])
    assert all(p.grad is None for p in trunk.parameters())  # nothing accumulated into .grad
    with pytest.raises(ValueError, match="loss_a must be a scalar loss"):
        companion.gradient_cosine(torch.ones(2, requires_grad=True), lb, trunk.parameters())
    with pytest.raises(TypeError, match="loss_b must be a torch.Tensor"):
        companion.gradient_cosine(la, 1.0, trunk.parameters())
    with pytest.raises(ValueError, match="params must hold at least one tensor"):
        companion.gradient_cosine(la, lb, [])
    with pytest.raises(ValueError, match=r"params\[0\] does not require grad"):
        companion.gradient_cosine(la, lb, [torch.ones(2)])
    with pytest.raises(TypeError, match=r"params\[0\] must be a torch.Tensor"):
        companion.gradient_cosine(la, lb, [1.0])
