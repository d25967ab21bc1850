"""Temperature softmax and the distillation loss (companion.distill)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, snapshot

REDUCTIONS = ["mean", "sum", "none"]


def _np(t):
    return t.detach().double().cpu().numpy()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
def test_softmax_with_temperature_matches_reference(temperature, dtype, atol, rtol, device, gen):
    z = rand(3, 17, 5, gen=gen, scale=3.0).to(dtype).to(device)
    got = companion.softmax_with_temperature(z, temperature)
    assert got.dtype == dtype
    np.testing.assert_allclose(_np(got), R.softmax_with_temperature(_np(z), temperature), atol=atol, rtol=rtol)
    # other axes work too
    got1 = companion.softmax_with_temperature(z, temperature, dim=1)
    np.testing.assert_allclose(_np(got1), R.softmax_with_temperature(_np(z), temperature, dim=1), atol=atol, rtol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("scale_by_t2", [True, False])
def test_distillation_matches_reference(scale_by_t2, reduction, dtype, atol, rtol, device, gen):
    s = rand(2, 31, 7, gen=gen, scale=2.0).to(dtype).to(device)
    t = rand(2, 31, 7, gen=gen, scale=4.0).to(dtype).to(device)
    got = companion.distillation_loss(s, t, temperature=3.0, scale_by_t2=scale_by_t2, reduction=reduction)
    assert got.dtype == dtype
    want = R.distillation_loss(_np(s), _np(t), temperature=3.0, scale_by_t2=scale_by_t2, reduction=reduction)
    scale = 9.0 if scale_by_t2 else 1.0
    np.testing.assert_allclose(_np(got), want, atol=atol * scale * 4, rtol=rtol)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 5.0])
def test_distillation_torch_peers(temperature, gen):
    s = rand(11, 6, gen=gen).requires_grad_()
    t = rand(11, 6, gen=gen, scale=3.0)
    ours = companion.distillation_loss(s, t, temperature=temperature)
    p_t = torch.softmax(t / temperature, -1)
    peer = F.cross_entropy(s / temperature, p_t) * temperature**2
    torch.testing.assert_close(ours, peer)
    # KL = CE - H(teacher), the same gradient for the student
    kl = F.kl_div(F.log_softmax(s / temperature, -1), p_t, reduction="batchmean") * temperature**2
    h = -(p_t * p_t.log()).sum(-1).mean() * temperature**2
    torch.testing.assert_close(ours, kl + h)
    g_ours, = torch.autograd.grad(ours, s)
    g_kl, = torch.autograd.grad(kl, s)
    torch.testing.assert_close(g_ours, g_kl)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0, 10.0])
def test_distillation_gradient_closed_form(temperature, gen):
    """d loss / d z_s = (T^2 / T)(p_s^T - p_t^T) per example, divided by N for the mean."""
    s = rand(9, 5, gen=gen).requires_grad_()
    t = rand(9, 5, gen=gen)
    loss = companion.distillation_loss(s, t, temperature=temperature, scale_by_t2=False, reduction="sum")
    g, = torch.autograd.grad(loss, s)
    closed = (torch.softmax(s.detach() / temperature, -1) - torch.softmax(t / temperature, -1)) / temperature
    torch.testing.assert_close(g, closed)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_distillation_gradcheck(reduction, gen):
    s = rand(4, 3, 5, gen=gen).requires_grad_()
    t = rand(4, 3, 5, gen=gen).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b: companion.distillation_loss(a, b, temperature=2.5, reduction=reduction), (s, t))
    assert torch.autograd.gradcheck(lambda a: companion.softmax_with_temperature(a, 0.7), (s,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_distillation_closed_form_gradcheck_with_a_fixed_teacher(reduction, gen):
    """A teacher without grad takes the closed-form path: first and second derivatives."""
    s = rand(4, 3, 5, gen=gen).requires_grad_()
    t = rand(4, 3, 5, gen=gen)
    fn = lambda a: companion.distillation_loss(a, t, temperature=2.5, reduction=reduction)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (s,))
    assert torch.autograd.gradgradcheck(fn, (s,))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_distillation_extreme_logits(dtype):
    s = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]).to(dtype).requires_grad_()
    t = torch.tensor([[-1e4, 1e4, 0.0], [1e4, -1e4, 0.0]]).to(dtype)
    loss = companion.distillation_loss(s, t, temperature=0.5)
    loss.backward()
    assert torch.isfinite(loss) and bool(torch.isfinite(s.grad).all())
    assert bool(torch.isfinite(companion.softmax_with_temperature(s.detach(), 0.01)).all())


def test_distillation_half_no_worse_than_naive(gen):
    s64, t64 = rand(257, 13, gen=gen, scale=4.0), rand(257, 13, gen=gen, scale=4.0)
    truth = R.distillation_loss(s64.numpy(), t64.numpy(), temperature=2.0)
    for dtype in (torch.float16, torch.bfloat16):
        s, t = s64.to(dtype), t64.to(dtype)
        ours = companion.distillation_loss(s, t, temperature=2.0).double().item()
        naive = (-(torch.softmax(t / 2, -1) * torch.log_softmax(s / 2, -1)).sum(-1).mean() * 4).double().item()
        assert abs(ours - truth) <= abs(naive - truth) + 1e-2 * abs(truth)


def test_distillation_inputs_unchanged(gen):
    s, t = rand(3, 4, gen=gen), rand(3, 4, gen=gen)
    before = snapshot(s, t)
    companion.distillation_loss(s, t, temperature=2.0)
    companion.softmax_with_temperature(s, 2.0)
    assert_unchanged(before, s, t)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: companion.softmax_with_temperature(torch.zeros(3), 0.0), ValueError, "temperature must be > 0"),
    (lambda: companion.softmax_with_temperature(torch.zeros(3), "hot"), TypeError, "temperature must be a real number"),
    (lambda: companion.softmax_with_temperature(torch.zeros(3, dtype=torch.long), 1.0), TypeError,
     "logits must be a floating-point tensor"),
    (lambda: companion.distillation_loss(torch.zeros(2, 3), torch.zeros(2, 4)), ValueError,
     r"teacher_logits has shape \(2, 4\) but student_logits has shape \(2, 3\)"),
    (lambda: companion.distillation_loss(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3)), TypeError,
     "student_logits must be a floating-point tensor"),
    (lambda: companion.distillation_loss(torch.zeros(2, 3), [0.0]), TypeError, "teacher_logits must be a torch.Tensor"),
    (lambda: companion.distillation_loss(torch.zeros(2, 3), torch.zeros(2, 3), temperature=-1.0), ValueError,
     "temperature must be > 0"),
    (lambda: companion.distillation_loss(torch.zeros(2, 3), torch.zeros(2, 3), reduction="batchmean"), ValueError,
     "reduction must be 'mean', 'sum' or 'none', got 'batchmean'"),
])
def test_distillation_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
