"""The focal kernels (companion/_focal.py) against their float64 references, cross-entropy at
gamma = 0, torchvision's formula, gradcheck, saturated logits and bad input."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, randint, snapshot

REDUCTIONS = ["mean", "sum", "none"]
GAMMAS = [0.0, 0.25, 0.5, 1.0, 2.0, 3.5]


def _np(t):
    return t.detach().cpu().double().numpy()


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss written out (torchvision is not a dependency)."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _binary_targets(kind, shape, gen, device="cpu"):
    if kind == "hard":
        return (torch.rand(shape, generator=gen, dtype=torch.float64) < 0.3).double().to(device)
    return torch.rand(shape, generator=gen, dtype=torch.float64).to(device)


# ------------------------------------------------------------------------------- binary

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind,gamma,alpha,reduction",
                         list(itertools.product(["hard", "soft"], GAMMAS, [None, 0.25], REDUCTIONS)))
def test_binary_focal_matches_reference_float64(kind, gamma, alpha, reduction, device, gen):
    z = rand(7, 9, gen=gen, scale=4.0, device=device)
    y = _binary_targets(kind, (7, 9), gen, device)
    got = companion.binary_focal_loss(z, y, gamma=gamma, alpha=alpha, reduction=reduction)
    want = R.binary_focal_loss(_np(z), _np(y), gamma=gamma, alpha=alpha, reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("kind", ["hard", "soft"])
def test_binary_focal_matches_reference_per_dtype(dtype, atol, rtol, kind, gen):
    z = rand(40, gen=gen, scale=3.0).to(dtype)
    y = _binary_targets(kind, (40,), gen).to(dtype)
    got = companion.binary_focal_loss(z, y, gamma=2.0, alpha=0.25, reduction="none")
    assert got.dtype == dtype
    want = R.binary_focal_loss(_np(z), _np(y), gamma=2.0, alpha=0.25, reduction="none")
    np.testing.assert_allclose(_np(got), want, atol=atol, rtol=rtol)


@pytest.mark.parametrize("kind,gamma,alpha,reduction",
                         list(itertools.product(["hard", "soft"], [0.0, 0.5, 2.0, 3.5], [None, 0.25], REDUCTIONS)))
def test_binary_focal_gradcheck(kind, gamma, alpha, reduction, gen):
    z = rand(3, 5, gen=gen, scale=3.0).requires_grad_()
    y = _binary_targets(kind, (3, 5), gen)
    assert torch.autograd.gradcheck(
        lambda a: companion.binary_focal_loss(a, y, gamma=gamma, alpha=alpha, reduction=reduction), (z,))


def test_binary_focal_gradcheck_through_target(gen):
    # a target that requires grad takes the composed path, differentiable in both arguments
    z = rand(6, gen=gen, scale=2.0).requires_grad_()
    y = (0.1 + 0.8 * torch.rand(6, generator=gen, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, t: companion.binary_focal_loss(a, t, gamma=1.5), (z, y))


@pytest.mark.parametrize("kind", ["hard", "soft"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_focal_gamma0_no_alpha_is_bce(kind, reduction, gen):
    z = rand(5, 4, gen=gen, scale=3.0).requires_grad_()
    y = _binary_targets(kind, (5, 4), gen)
    ours = companion.binary_focal_loss(z, y, gamma=0.0, alpha=None, reduction=reduction)
    bce = companion.binary_cross_entropy(z, y, reduction=reduction)
    torch.testing.assert_close(ours, bce, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), z)[0], torch.autograd.grad(bce.sum(), z)[0],
                               atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind,gamma,alpha,reduction",
                         list(itertools.product(["hard", "soft"], [0.0, 0.5, 2.0], [-1.0, 0.25], REDUCTIONS)))
def test_binary_focal_equals_torchvision_formula(kind, gamma, alpha, reduction, device, gen):
    z = rand(6, 7, gen=gen, scale=3.0, device=device).requires_grad_()
    y = _binary_targets(kind, (6, 7), gen, device)
    ours = companion.binary_focal_loss(z, y, gamma=gamma, alpha=alpha, reduction=reduction)
    theirs = torchvision_sigmoid_focal_loss(z, y, alpha=alpha, gamma=gamma, reduction=reduction)
    torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-10)
    g_ours, = torch.autograd.grad(ours.sum(), z)
    g_theirs, = torch.autograd.grad(theirs.sum(), z)
    torch.testing.assert_close(g_ours, g_theirs, atol=1e-12, rtol=1e-9)


@pytest.mark.parametrize("gamma", [0.25, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_binary_focal_saturated_gradient_finite_where_torchvision_is_nan(gamma, dtype):
    z = torch.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype)  # two right, two confidently wrong
    for alpha in [None, 0.25]:
        loss = companion.binary_focal_loss(z, y, gamma=gamma, alpha=alpha, reduction="none")
        grad, = torch.autograd.grad(loss.sum(), z)
        assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
        a = torch.ones(4, dtype=dtype) if alpha is None else torch.tensor([0.25, 0.75, 0.75, 0.25], dtype=dtype)
        # right: loss and gradient 0; wrong: loss a_t |z|, gradient a_t sign(z)
        torch.testing.assert_close(loss.detach(), a * torch.tensor([0.0, 0.0, 1e4, 1e4], dtype=dtype))
        torch.testing.assert_close(grad, a * torch.tensor([0.0, 0.0, 1.0, -1.0], dtype=dtype))
    theirs = torchvision_sigmoid_focal_loss(z, y, gamma=gamma, reduction="sum")
    grad_tv, = torch.autograd.grad(theirs, z)
    assert torch.isnan(grad_tv[:2]).all()  # (1 - p_t) ** gamma at p_t = 1: inf * 0


@pytest.mark.parametrize("scale", [1e4, -1e4])
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_binary_focal_extreme_logits_finite(scale, gamma, dtype, gen):
    z = (rand(12, gen=gen).sign() * scale).to(dtype).requires_grad_()
    for y in (_binary_targets("hard", (12,), gen).to(dtype), _binary_targets("soft", (12,), gen).to(dtype)):
        loss = companion.binary_focal_loss(z, y, gamma=gamma)
        grad, = torch.autograd.grad(loss, z)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_binary_focal_half_no_worse_than_naive_torch(dtype, gen):
    z64 = rand(256, gen=gen, scale=4.0)
    y = _binary_targets("hard", (256,), gen)
    truth = R.binary_focal_loss(z64.numpy(), y.numpy(), gamma=2.0, reduction="none")
    z, yh = z64.to(dtype), y.to(dtype)
    ours = _np(companion.binary_focal_loss(z, yh, gamma=2.0, reduction="none"))
    naive = _np(torchvision_sigmoid_focal_loss(z, yh, gamma=2.0))
    assert np.abs(ours - truth).max() <= np.abs(naive - truth).max() + 1e-6
    zg = z.clone().requires_grad_()
    grad, = torch.autograd.grad(companion.binary_focal_loss(zg, yh), zg)
    assert grad.dtype == dtype


@pytest.mark.parametrize("kind,gamma,reduction",
                         list(itertools.product(["hard", "soft"], [0.5, 2.0], ["mean", "sum"])))
def test_binary_focal_blocked_path_equals_the_reference(kind, gamma, reduction, gen, monkeypatch):
    """The reduced loss a block at a time (blocks of 7, a shorter last one, a transposed
    input): value and gradient equal the float64 reference, with and without a gradient."""
    from companion import _focal
    monkeypatch.setattr(_focal.C, "ELEMENT_BLOCK", 7)
    z = rand(9, 4, gen=gen, scale=4.0).t().requires_grad_()
    y = _binary_targets(kind, (4, 9), gen)
    loss = companion.binary_focal_loss(z, y, gamma=gamma, alpha=0.25, reduction=reduction)
    want = R.binary_focal_loss(_np(z), _np(y), gamma=gamma, alpha=0.25, reduction=reduction)
    np.testing.assert_allclose(loss.item(), want, rtol=1e-12)
    grad, = torch.autograd.grad(3.0 * loss, z)
    z64 = z.detach().clone().requires_grad_()
    want_grad, = torch.autograd.grad(3.0 * _focal._binary_focal_composed(
        z64, y, gamma, 0.25, reduction), z64)
    torch.testing.assert_close(grad, want_grad, atol=1e-12, rtol=1e-10)
    with torch.no_grad():
        np.testing.assert_allclose(companion.binary_focal_loss(
            z, y, gamma=gamma, alpha=0.25, reduction=reduction).item(), want, rtol=1e-12)


def test_binary_focal_float32_over_several_blocks(gen):
    from companion import _focal
    n = 2 * _focal.C.ELEMENT_BLOCK + 3
    z = rand(n, gen=gen, scale=3.0).float()
    y = (torch.rand(n, generator=gen) < 0.1).float()
    want = R.binary_focal_loss(_np(z), _np(y), gamma=2.0, alpha=0.25)
    np.testing.assert_allclose(companion.binary_focal_loss(z, y).item(), want, rtol=1e-5)


def test_binary_focal_retain_graph_and_grad_output(gen):
    z = rand(10, gen=gen, scale=3.0).requires_grad_()
    y = _binary_targets("soft", (10,), gen)
    loss = companion.binary_focal_loss(z, y, gamma=0.5)
    first, = torch.autograd.grad(2.0 * loss, z, retain_graph=True)
    second, = torch.autograd.grad(loss, z)  # recomputed from the saved inputs
    torch.testing.assert_close(first, 2.0 * second, atol=1e-14, rtol=1e-12)


def test_binary_focal_empty_and_no_grad(gen):
    empty = torch.zeros(0, dtype=torch.float64, requires_grad=True)
    loss = companion.binary_focal_loss(empty, torch.zeros(0, dtype=torch.float64))
    assert loss.item() == 0.0
    with torch.no_grad():
        z, y = rand(5, gen=gen), _binary_targets("hard", (5,), gen)
        torch.testing.assert_close(companion.binary_focal_loss(z, y, reduction="none"),
                                   torch.as_tensor(R.binary_focal_loss(z.numpy(), y.numpy(), reduction="none")))


def test_binary_focal_inputs_unchanged(gen):
    for kind in ["hard", "soft"]:
        z, y = rand(4, 6, gen=gen), _binary_targets(kind, (4, 6), gen)
        before = snapshot(z, y)
        zg = z.clone().requires_grad_()
        companion.binary_focal_loss(zg, y, gamma=0.5).backward()
        assert_unchanged(before, zg.detach(), y)
        companion.binary_focal_loss(z, y)
        assert_unchanged(before, z, y)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(logits=torch.ones(3, dtype=torch.long)), TypeError, "logits must be a floating-point tensor"),
    (dict(target=torch.ones(4)), ValueError, r"target has shape \(4,\) but logits has shape \(3,\)"),
    (dict(target=torch.tensor([0.0, 1.5, 1.0])), ValueError, r"target must lie in \[0, 1\]"),
    (dict(target=torch.tensor([0.0, -0.5, 1.0])), ValueError, r"target must lie in \[0, 1\]"),
    (dict(target=torch.tensor([0, 1, 1])), TypeError, "target must be a floating-point tensor"),
    (dict(gamma=-1.0), ValueError, "gamma must be >= 0"),
    (dict(gamma="2"), TypeError, "gamma must be a real number"),
    (dict(alpha=1.5), ValueError, r"alpha must lie in \[0, 1\]"),
    (dict(alpha=torch.tensor(0.5)), TypeError, "alpha must be a number or None"),
    (dict(reduction="avg"), ValueError, "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
])
def test_binary_focal_errors(kwargs, exc, match):
    args = dict(logits=torch.zeros(3), target=torch.tensor([0.0, 1.0, 1.0]))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        companion.binary_focal_loss(args.pop("logits"), args.pop("target"), **args)


# ------------------------------------------------------------------------------ softmax

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("gamma,use_alpha,reduction", list(itertools.product(GAMMAS, [False, True], REDUCTIONS)))
def test_focal_matches_reference_float64(gamma, use_alpha, reduction, device, gen):
    z = rand(9, 5, gen=gen, scale=3.0, device=device)
    y = randint(5, 9, gen=gen, device=device)
    y[2] = -100
    alpha = (torch.rand(5, generator=gen, dtype=torch.float64) + 0.1).to(device) if use_alpha else None
    got = companion.focal_loss(z, y, gamma=gamma, alpha=alpha, reduction=reduction)
    want = R.focal_loss(_np(z), y.cpu().numpy(), gamma=gamma, alpha=None if alpha is None else _np(alpha),
                        reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_focal_matches_reference_per_dtype(dtype, atol, rtol, gen):
    z = rand(4, 6, 5, gen=gen, scale=2.0).to(dtype)
    y = randint(5, 4, 6, gen=gen)
    got = companion.focal_loss(z, y, gamma=2.0, reduction="none")
    assert got.dtype == dtype
    np.testing.assert_allclose(_np(got), R.focal_loss(_np(z), y.numpy(), gamma=2.0, reduction="none"),
                               atol=atol, rtol=rtol)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("use_alpha", [False, True])
def test_focal_gradcheck(gamma, use_alpha, gen):
    z = rand(4, 3, gen=gen, scale=2.0).requires_grad_()
    y = randint(3, 4, gen=gen)
    y[1] = -100
    alpha = torch.rand(3, generator=gen, dtype=torch.float64) + 0.2 if use_alpha else None
    assert torch.autograd.gradcheck(lambda a: companion.focal_loss(a, y, gamma=gamma, alpha=alpha), (z,))


@pytest.mark.parametrize("use_alpha", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_gamma0_is_cross_entropy(use_alpha, reduction, gen):
    z = rand(8, 4, gen=gen, scale=2.0).requires_grad_()
    y = randint(4, 8, gen=gen)
    y[0] = -100
    alpha = torch.rand(4, generator=gen, dtype=torch.float64) + 0.2 if use_alpha else None
    ours = companion.focal_loss(z, y, gamma=0.0, alpha=alpha, reduction=reduction)
    ce = F.cross_entropy(z, y, weight=alpha, reduction=reduction)
    torch.testing.assert_close(ours, ce, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), z)[0], torch.autograd.grad(ce.sum(), z)[0],
                               atol=1e-12, rtol=1e-12)


def test_focal_two_classes_equals_binary_focal(gen):
    # softmax over (0, z) is sigmoid(z): the softmax focal loss reduces to the binary one
    z = rand(10, gen=gen, scale=3.0)
    y = randint(2, 10, gen=gen)
    two = companion.focal_loss(torch.stack([torch.zeros_like(z), z], -1), y, gamma=1.5, reduction="none")
    one = companion.binary_focal_loss(z, y.double(), gamma=1.5, alpha=None, reduction="none")
    torch.testing.assert_close(two, one, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("gamma", [0.25, 0.5, 2.0])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_focal_saturated_logits_finite(gamma, dtype, gen):
    z = (rand(6, 4, gen=gen).sign() * 1e4).to(dtype).requires_grad_()
    y = randint(4, 6, gen=gen)
    loss = companion.focal_loss(z, y, gamma=gamma)
    grad, = torch.autograd.grad(loss, z)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


def test_focal_all_ignored_is_zero_with_zero_gradient(gen):
    z = rand(3, 4, gen=gen).requires_grad_()
    loss = companion.focal_loss(z, torch.full((3,), -100))
    grad, = torch.autograd.grad(loss, z)
    assert loss.item() == 0.0 and torch.equal(grad, torch.zeros_like(z))


def test_focal_inputs_unchanged(gen):
    z, y, a = rand(5, 3, gen=gen), randint(3, 5, gen=gen), torch.ones(3, dtype=torch.float64)
    before = snapshot(z, y, a)
    companion.focal_loss(z, y, gamma=2.0, alpha=a)
    assert_unchanged(before, z, y, a)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(target=torch.tensor([0, 3])), ValueError, "target has class index 3 but logits have 3 classes"),
    (dict(target=torch.tensor([0.0, 1.0])), TypeError, "target must hold integer class indices"),
    (dict(alpha=torch.ones(2)), ValueError, r"alpha has shape \(2,\) but must have shape \(3,\)"),
    (dict(alpha=-torch.ones(3)), ValueError, "alpha must be non-negative"),
    (dict(gamma=-0.5), ValueError, "gamma must be >= 0"),
    (dict(reduction="max"), ValueError, "reduction must be 'mean', 'sum' or 'none'"),
])
def test_focal_errors(kwargs, exc, match):
    args = dict(logits=torch.zeros(2, 3), target=torch.tensor([0, 2]))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        companion.focal_loss(args.pop("logits"), args.pop("target"), **args)
