"""companion.core against its float64 references, torch.nn.functional, gradcheck and bad input."""
from __future__ import annotations

import itertools

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, randint, snapshot

REDUCTIONS = ["mean", "sum", "none"]


def _np(t):
    return t.detach().cpu().double().numpy()


# ----------------------------------------------------------------------------- cross_entropy

@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_reference_hard(dtype, atol, rtol, reduction, gen):
    z = rand(7, 3, 5, gen=gen, scale=3.0).to(dtype)
    y = randint(5, 7, 3, gen=gen)
    y[0, 1] = -100
    w = torch.rand(5, generator=gen, dtype=torch.float64).to(dtype) + 0.1
    got = companion.cross_entropy(z, y, weight=w, label_smoothing=0.2, reduction=reduction)
    want = R.cross_entropy(_np(z), y.numpy(), weight=_np(w), label_smoothing=0.2, reduction=reduction)
    assert got.dtype == dtype
    np.testing.assert_allclose(_np(got), want, atol=atol, rtol=rtol)


@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_reference_soft(dtype, atol, rtol, reduction, gen):
    z = rand(11, 4, gen=gen, scale=2.0).to(dtype)
    t = torch.softmax(rand(11, 4, gen=gen), -1).to(dtype)
    w = torch.rand(4, generator=gen, dtype=torch.float64).to(dtype) + 0.5
    got = companion.cross_entropy(z, t, weight=w, label_smoothing=0.1, reduction=reduction)
    want = R.cross_entropy(_np(z), _np(t), weight=_np(w), label_smoothing=0.1, reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=atol, rtol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("use_weight,smoothing,ignore,reduction",
                         list(itertools.product([False, True], [0.0, 0.3], [False, True], REDUCTIONS)))
def test_cross_entropy_equals_torch_hard(use_weight, smoothing, ignore, reduction, device, gen):
    z = rand(13, 6, gen=gen, scale=2.0, device=device).requires_grad_()
    y = randint(6, 13, gen=gen, device=device)
    if ignore:
        y[::4] = 7  # a non-default ignore_index that is also out of range
    w = (torch.rand(6, generator=gen, dtype=torch.float64) + 0.2).to(device) if use_weight else None
    kw = dict(weight=w, label_smoothing=smoothing, ignore_index=7, reduction=reduction)
    ours = companion.cross_entropy(z, y, **kw)
    theirs = F.cross_entropy(z, y, **kw)
    torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-12)
    g_ours, = torch.autograd.grad(ours.sum(), z)
    g_theirs, = torch.autograd.grad(theirs.sum(), z)
    torch.testing.assert_close(g_ours, g_theirs, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("use_weight,smoothing,reduction",
                         list(itertools.product([False, True], [0.0, 0.25], REDUCTIONS)))
def test_cross_entropy_equals_torch_soft(use_weight, smoothing, reduction, gen):
    z = rand(9, 5, gen=gen).requires_grad_()
    t = torch.softmax(rand(9, 5, gen=gen), -1)
    w = torch.rand(5, generator=gen, dtype=torch.float64) + 0.2 if use_weight else None
    kw = dict(weight=w, label_smoothing=smoothing, reduction=reduction)
    ours, theirs = companion.cross_entropy(z, t, **kw), F.cross_entropy(z, t, **kw)
    torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), z)[0],
                               torch.autograd.grad(theirs.sum(), z)[0], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"weight": True, "label_smoothing": 0.1}, {"ignore": True}])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_small_batches_go_to_torch_with_the_same_value_and_gradient(monkeypatch, gen, kw,
                                                                   reduction):
    """Below core._SMALL_BATCH logits a hard-target batch with nothing ignored goes to
    F.cross_entropy; at or above it (or with an ignored target) to the closed forms. The two
    agree in value, gradient and second derivative, with the class axis last."""
    from companion import core
    z = rand(3, 4, 5, gen=gen, dtype=torch.float32)
    y = randint(5, 3, 4, gen=gen)
    if kw.get("ignore"):
        y[1, 2] = -100
    w = rand(5, gen=gen, dtype=torch.float32).abs() if kw.get("weight") else None
    eps = kw.get("label_smoothing", 0.0)
    out, calls, real = [], [], F.cross_entropy
    monkeypatch.setattr(core.F, "cross_entropy", lambda *a, **k: calls.append(1) or real(*a, **k))
    for threshold in (z.numel() + 1, z.numel()):
        monkeypatch.setattr(core, "_SMALL_BATCH", threshold)
        x = z.clone().requires_grad_(True)
        calls.clear()
        loss = companion.cross_entropy(x, y, weight=w, label_smoothing=eps, reduction=reduction)
        assert bool(calls) == (threshold > z.numel() and not kw.get("ignore"))
        (g,) = torch.autograd.grad(loss.sum(), x, create_graph=True)
        (gg,) = torch.autograd.grad((g * g).sum(), x)
        out.append((loss.detach(), g.detach(), gg))
    theirs = real(z.movedim(-1, 1), y, weight=w, label_smoothing=eps, reduction=reduction)
    torch.testing.assert_close(out[0][0], theirs)
    for a, b in zip(*out):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_cross_entropy_class_axis_last_matches_torch_class_axis_one(gen):
    z = rand(2, 3, 4, 5, gen=gen)  # (B, H, W, K)
    y = randint(5, 2, 3, 4, gen=gen)
    ours = companion.cross_entropy(z, y, reduction="none")
    theirs = F.cross_entropy(z.movedim(-1, 1), y, reduction="none")
    torch.testing.assert_close(ours, theirs)


def test_cross_entropy_hard_equals_one_hot_soft(gen):
    z = rand(8, 4, gen=gen)
    y = randint(4, 8, gen=gen)
    hard = companion.cross_entropy(z, y, label_smoothing=0.1)
    soft = companion.cross_entropy(z, F.one_hot(y, 4).double(), label_smoothing=0.1)
    torch.testing.assert_close(hard, soft)


@pytest.mark.parametrize("target_kind", ["hard", "soft"])
def test_cross_entropy_gradcheck(target_kind, gen):
    z = rand(5, 4, gen=gen).requires_grad_()
    y = randint(4, 5, gen=gen) if target_kind == "hard" else torch.softmax(rand(5, 4, gen=gen), -1)
    w = torch.rand(4, generator=gen, dtype=torch.float64) + 0.1
    assert torch.autograd.gradcheck(
        lambda a: companion.cross_entropy(a, y, weight=w, label_smoothing=0.1), (z,))


def test_cross_entropy_all_ignored_is_zero_with_zero_gradient(gen):
    z = rand(4, 3, gen=gen).requires_grad_()
    y = torch.full((4,), -100)
    loss = companion.cross_entropy(z, y, label_smoothing=0.2)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(z.grad, torch.zeros_like(z))
    assert torch.isnan(F.cross_entropy(z.detach(), y))  # the peer's behaviour we improve on


@pytest.mark.parametrize("scale", [1e4, -1e4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_cross_entropy_extreme_logits_finite(scale, dtype, gen):
    z = (rand(6, 5, gen=gen).sign() * scale).to(dtype).requires_grad_()
    y = randint(5, 6, gen=gen)
    loss = companion.cross_entropy(z, y, label_smoothing=0.1)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_cross_entropy_half_no_worse_than_naive_torch(dtype, gen):
    z64 = rand(64, 10, gen=gen, scale=4.0)
    y = randint(10, 64, gen=gen)
    truth = R.cross_entropy(z64.numpy(), y.numpy(), reduction="none")
    z = z64.to(dtype)
    ours = _np(companion.cross_entropy(z, y, reduction="none"))
    naive = _np(-torch.log(torch.softmax(z, -1)).gather(-1, y[:, None]).squeeze(-1))
    assert np.abs(ours - truth).max() <= np.abs(naive - truth).max() + 1e-3


def test_cross_entropy_inputs_unchanged(gen):
    z, t = rand(5, 3, gen=gen), torch.softmax(rand(5, 3, gen=gen), -1)
    w = torch.ones(3, dtype=torch.float64)
    before = snapshot(z, t, w)
    companion.cross_entropy(z, t, weight=w, label_smoothing=0.2)
    assert_unchanged(before, z, t, w)


@pytest.mark.parametrize("kwargs,target,exc,match", [
    (dict(), torch.tensor([0, 3]), ValueError, "target has class index 3 but logits have 3 classes"),
    (dict(), torch.tensor([0, -2]), ValueError, "negative class index -2"),
    (dict(), torch.tensor([0, 1, 2]), ValueError, r"target has shape \(3,\) but logits have shape \(2, 3\)"),
    (dict(), torch.tensor([True, False]), TypeError, "target must hold integer class indices"),
    (dict(), torch.ones(2, 4), ValueError, "soft target must have the shape of the logits"),
    (dict(), -torch.ones(2, 3), ValueError, r"target must lie in \[0, 1\]"),
    (dict(weight=torch.ones(4)), torch.tensor([0, 1]), ValueError, r"weight has shape \(4,\)"),
    (dict(weight=-torch.ones(3)), torch.tensor([0, 1]), ValueError, "weight must be non-negative"),
    (dict(weight=[1.0, 1.0, 1.0]), torch.tensor([0, 1]), TypeError, "weight must be a torch.Tensor"),
    (dict(label_smoothing=1.5), torch.tensor([0, 1]), ValueError, "label_smoothing must be <= 1.0"),
    (dict(label_smoothing=-0.1), torch.tensor([0, 1]), ValueError, "label_smoothing must be >= 0"),
    (dict(reduction="avg"), torch.tensor([0, 1]), ValueError, "reduction must be 'mean', 'sum' or 'none'"),
    (dict(), [0, 1], TypeError, "target must be a torch.Tensor"),
])
def test_cross_entropy_errors(kwargs, target, exc, match):
    with pytest.raises(exc, match=match):
        companion.cross_entropy(torch.zeros(2, 3), target, **kwargs)


def test_cross_entropy_rejects_integer_logits():
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        companion.cross_entropy(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 1]))


# ----------------------------------------------------------------------- binary_cross_entropy

@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_reference(dtype, atol, rtol, reduction, gen):
    z = rand(9, 4, gen=gen, scale=3.0).to(dtype)
    y = torch.rand(9, 4, generator=gen, dtype=torch.float64).to(dtype)
    beta = (torch.rand(4, generator=gen, dtype=torch.float64) * 3).to(dtype)
    w = (torch.rand(9, 1, generator=gen, dtype=torch.float64) + 0.5).to(dtype)
    mask = torch.rand(9, 4, generator=gen) > 0.3
    got = companion.binary_cross_entropy(z, y, pos_weight=beta, weight=w, mask=mask, reduction=reduction)
    want = R.binary_cross_entropy(_np(z), _np(y), pos_weight=_np(beta), weight=_np(w),
                                  mask=mask.numpy(), reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=atol, rtol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("use_pos,use_weight,reduction",
                         list(itertools.product([False, True], [False, True], REDUCTIONS)))
def test_bce_equals_torch(use_pos, use_weight, reduction, device, gen):
    z = rand(10, 3, gen=gen, scale=2.0, device=device).requires_grad_()
    y = torch.rand(10, 3, generator=gen, dtype=torch.float64).to(device)
    pos = (torch.rand(3, generator=gen, dtype=torch.float64) * 4).to(device) if use_pos else None
    w = (torch.rand(10, 3, generator=gen, dtype=torch.float64)).to(device) if use_weight else None
    ours = companion.binary_cross_entropy(z, y, pos_weight=pos, weight=w, reduction=reduction)
    theirs = F.binary_cross_entropy_with_logits(z, y, weight=w, pos_weight=pos, reduction=reduction)
    torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), z)[0],
                               torch.autograd.grad(theirs.sum(), z)[0], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("block", [7, 45, 1 << 16])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_blocked_plain_path_equals_the_reference(block, reduction, gen, monkeypatch):
    """Without weights or a mask the kernel runs block by block: ragged last blocks, a
    non-contiguous batch and every reduction give the float64 reference and sigma(z) - y."""
    from companion import core
    monkeypatch.setattr(core.C, "ELEMENT_BLOCK", block)
    z = rand(9, 5, gen=gen, scale=4.0).T.requires_grad_()  # (5, 9), not contiguous
    y = torch.rand(9, 5, generator=gen, dtype=torch.float64).T
    got = companion.binary_cross_entropy(z, y, reduction=reduction)
    want = R.binary_cross_entropy(_np(z), _np(y), reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=1e-12, rtol=1e-12)
    upstream = torch.rand(got.shape, generator=gen, dtype=torch.float64)
    got.backward(upstream)
    scale = upstream if reduction == "none" else upstream / (z.numel() if reduction == "mean" else 1)
    torch.testing.assert_close(z.grad, (torch.sigmoid(z.detach()) - y) * scale)


def test_bce_plain_path_exact_to_a_few_ulps_at_the_edges():
    """Per-element float32 losses without weights against float64: logits far out on either side
    with targets near that side, where (1 - y) z and softplus(-|z|) are tiny next to |z|."""
    z = torch.tensor([1e4, -1e4, 60.0, -60.0, 20.0, -20.0, 1e-3, -1e-3, 0.0, 3.0, -3.0])
    y = torch.tensor([1 - 2**-20, 1e-6, 1.0, 0.0, 1.0, 0.0, 0.5, 0.3, 0.7, 1 - 2**-24, 2**-30])
    z, y = z.repeat(3), y.repeat(3)
    y[11:22] = 1 - y[11:22]          # and the far side, where the loss is about |z|
    y[22:] = torch.rand(11, generator=torch.Generator().manual_seed(0))
    want = R.binary_cross_entropy(_np(z).astype(np.float64), _np(y).astype(np.float64),
                                  reduction="none")
    got = _np(companion.binary_cross_entropy(z, y, reduction="none")).astype(np.float64)
    assert np.all(want > 0)
    np.testing.assert_allclose(got, want, rtol=4 * 2**-24, atol=0)


def test_bce_plain_path_near_float32_overflow():
    """Logits on the target's side, where the loss is exp(-|z|): to a few ulps while that is a
    normal number, at most 3e-39 off where exp(|z|) overflows, and never a negative zero."""
    z = torch.tensor([80.0, 87.0, 88.0, 88.5, 88.7, 88.8, 89.0, 100.0, 104.0, 1e4])
    z, y = torch.cat([z, -z]), torch.cat([torch.ones(10), torch.zeros(10)])
    want = R.binary_cross_entropy(_np(z).astype(np.float64), _np(y).astype(np.float64),
                                  reduction="none")
    got = companion.binary_cross_entropy(z, y, reduction="none")
    assert not torch.signbit(got).any()
    np.testing.assert_allclose(_np(got).astype(np.float64), want, rtol=4 * 2**-24, atol=3e-39)
    normal = want > np.finfo(np.float32).tiny
    np.testing.assert_allclose(_np(got).astype(np.float64)[normal], want[normal],
                               rtol=4 * 2**-24, atol=0)


def test_bce_blocked_float32_over_several_blocks(gen):
    from companion import core
    n = 2 * core.C.ELEMENT_BLOCK + 3
    z = rand(n, gen=gen, scale=5.0).float()
    y = (torch.rand(n, generator=gen) < 0.2).float()
    want = R.binary_cross_entropy(_np(z).astype(np.float64), _np(y).astype(np.float64))
    got = companion.binary_cross_entropy(z, y)
    np.testing.assert_allclose(got.item(), want, rtol=1e-6)
    np.testing.assert_allclose(_np(companion.binary_cross_entropy(z, y, reduction="none")),
                               R.binary_cross_entropy(_np(z).astype(np.float64),
                                                      _np(y).astype(np.float64), reduction="none"),
                               rtol=1e-5, atol=1e-7)


def test_bce_soft_target_gradient_is_sigmoid_minus_target(gen):
    z = rand(20, gen=gen).requires_grad_()
    y = torch.rand(20, generator=gen, dtype=torch.float64)
    companion.binary_cross_entropy(z, y, reduction="sum").backward()
    torch.testing.assert_close(z.grad, torch.sigmoid(z.detach()) - y)


def test_bce_gradcheck(gen):
    z = rand(4, 3, gen=gen).requires_grad_()
    y = torch.rand(4, 3, generator=gen, dtype=torch.float64)
    mask = torch.rand(4, 3, generator=gen) > 0.4
    pos = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda a: companion.binary_cross_entropy(a, y, pos_weight=pos, mask=mask), (z,))


def test_bce_all_masked_is_zero_with_zero_gradient(gen):
    z = rand(3, 2, gen=gen).requires_grad_()
    loss = companion.binary_cross_entropy(z, torch.ones(3, 2, dtype=torch.float64),
                                          mask=torch.zeros(3, 2, dtype=torch.bool))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(z.grad, torch.zeros_like(z))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_bce_extreme_logits_finite(dtype):
    z = torch.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype).requires_grad_()
    y = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    loss = companion.binary_cross_entropy(z, y, pos_weight=torch.tensor(3.0, dtype=dtype))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_bce_inputs_unchanged(gen):
    z, y = rand(6, gen=gen), torch.rand(6, generator=gen, dtype=torch.float64)
    before = snapshot(z, y)
    companion.binary_cross_entropy(z, y, pos_weight=torch.tensor(2.0, dtype=torch.float64))
    assert_unchanged(before, z, y)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(target=torch.ones(3)), ValueError, r"target has shape \(3,\) but logits has shape \(2, 3\)"),
    (dict(target=2 * torch.ones(2, 3)), ValueError, r"target must lie in \[0, 1\]"),
    (dict(target=torch.ones(2, 3, dtype=torch.long)), TypeError, "target must be a floating-point tensor"),
    (dict(pos_weight=torch.ones(4)), ValueError, r"pos_weight has shape \(4,\), which does not broadcast"),
    (dict(pos_weight=-torch.ones(3)), ValueError, "pos_weight must be non-negative"),
    (dict(weight=torch.ones(2, 3, 1)), ValueError, r"weight has shape \(2, 3, 1\), which does not broadcast"),
    (dict(mask=torch.ones(2, 3)), TypeError, "mask must be a boolean tensor"),
    (dict(mask=torch.ones(3, 2, dtype=torch.bool)), ValueError, r"mask has shape \(3, 2\)"),
    (dict(reduction="max"), ValueError, "reduction must be"),
])
def test_bce_errors(kwargs, exc, match):
    kw = dict(target=torch.ones(2, 3))
    kw.update(kwargs)
    with pytest.raises(exc, match=match):
        companion.binary_cross_entropy(torch.zeros(2, 3), **kw)


# --------------------------------------------------------------------------- divergences

@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_divergences_match_reference(dtype, atol, rtol, gen):
    a, b = rand(6, 5, gen=gen, scale=3.0).to(dtype), rand(6, 5, gen=gen, scale=3.0).to(dtype)
    for name in ["kl_divergence", "js_divergence"]:
        got = getattr(companion, name)(a, b)
        np.testing.assert_allclose(_np(got), getattr(R, name)(_np(a), _np(b)), atol=atol, rtol=rtol)
    p = torch.softmax(a.double(), -1).to(dtype)
    np.testing.assert_allclose(_np(companion.entropy(p)), R.entropy(_np(p)), atol=atol, rtol=rtol)


def test_kl_equals_torch_kl_div_and_cross_entropy_decomposition(gen):
    a, b = rand(7, 4, gen=gen), rand(7, 4, gen=gen)
    kl = companion.kl_divergence(a, b)
    torch.testing.assert_close(kl, F.kl_div(F.log_softmax(b, -1), F.log_softmax(a, -1),
                                            log_target=True, reduction="none").sum(-1))
    # CE(p, q) = H(p) + KL(p || q)
    p = torch.softmax(a, -1)
    ce = companion.cross_entropy(b, p, reduction="none")
    torch.testing.assert_close(ce, companion.entropy(p) + kl)


def test_js_is_symmetric_bounded_and_zero_on_equal(gen):
    a, b = rand(50, 3, gen=gen, scale=5.0), rand(50, 3, gen=gen, scale=5.0)
    js = companion.js_divergence(a, b)
    torch.testing.assert_close(js, companion.js_divergence(b, a))
    assert (js >= -1e-15).all() and (js <= np.log(2) + 1e-12).all()
    assert companion.js_divergence(a, a).abs().max() < 1e-12


def test_divergence_gradcheck_and_extremes(gen):
    a, b = rand(3, 4, gen=gen).requires_grad_(), rand(3, 4, gen=gen).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, y: companion.js_divergence(x, y), (a, b))
    assert torch.autograd.gradcheck(lambda x, y: companion.kl_divergence(x, y), (a, b))
    p = torch.tensor([[0.2, 0.3, 0.5]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: companion.entropy(x), (p,))
    assert companion.entropy(torch.tensor([0.0, 1.0])).item() == 0.0  # 0 log 0 = 0, no NaN
    x = torch.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    y = torch.tensor([[-1e4, 1e4, 0.0]], requires_grad=True)
    for f in (companion.kl_divergence, companion.js_divergence):
        out = f(x, y).sum()
        gx, gy = torch.autograd.grad(out, (x, y))
        assert torch.isfinite(out) and torch.isfinite(gx).all() and torch.isfinite(gy).all()


def test_entropy_row_blocks_dims_and_the_gradient_at_zero(monkeypatch, gen):
    """On the CPU the entropy and its gradient are taken a block of rows at a time: blocks
    of 2 rows must give what one block gives, along any axis and from a non-contiguous
    input; a zero probability gets a finite gradient, so a softmax upstream gets 0 there."""
    from companion import _checks
    p = rand(5, 7, 3, gen=gen).abs()
    p[1, 2, 0] = 0.0
    w = rand(7, 3, gen=gen)
    got = []
    for block in (10 ** 6, 10):    # one block; blocks of 2 rows of 5 (dim 0 moved last)
        monkeypatch.setattr(_checks, "ELEMENT_BLOCK", block)
        x = p.clone().requires_grad_(True)
        h = companion.entropy(x, dim=0)
        (h * w).sum().backward()
        got.append((h.detach(), x.grad))
    want = -torch.special.xlogy(p, p).sum(0)
    torch.testing.assert_close(got[0][0], want, rtol=1e-12, atol=1e-15)
    tiny = torch.finfo(p.dtype).tiny
    torch.testing.assert_close(got[0][1], -(p.clamp_min(tiny).log() + 1) * w)
    for a, b in zip(*got):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-15)
    assert got[0][1][1, 2, 0] == pytest.approx(-(math.log(tiny) + 1) * float(w[2, 0]))
    # p = softmax(z) with a class whose probability underflows to exactly 0 in float32
    z = torch.tensor([[0.0, 1.0, -200.0]], requires_grad=True)
    companion.entropy(torch.softmax(z, -1)).backward()
    z64 = z.detach().double().requires_grad_(True)
    companion.entropy(torch.softmax(z64, -1)).backward()
    assert torch.isfinite(z.grad).all() and z.grad[0, 2] == 0
    torch.testing.assert_close(z.grad.double(), z64.grad, rtol=1e-5, atol=1e-7)


def test_exp_as_exp2_keeps_probabilities_to_an_ulp_in_blocks_of_any_size(monkeypatch):
    """core._exp_ (the exponential in cross-entropy's backward) is exp2(x log2 e): for
    log-probabilities x <= 0 in float32 the absolute error of exp(x) stays below 6e-8 (an
    ulp of numbers just under 1), the relative error below |x| * 8e-8 + 3 ulp; blocks of
    the CPU loop agree to 2 ulp (a block's tail may take PyTorch's scalar path)."""
    from companion import _checks, core
    x = torch.linspace(-100.0, 0.0, 200_001, dtype=torch.float32)
    want = x.double().exp()
    got = core._exp_(x.clone()).double()
    assert (got - want).abs().max() < 6e-8
    normal = want > 1024 * torch.finfo(torch.float32).tiny   # away from subnormals
    rel = ((got - want).abs() / want)[normal]
    assert (rel <= x.double().abs()[normal] * 8e-8 + 3.6e-7).all()
    monkeypatch.setattr(_checks, "ELEMENT_BLOCK", 1000)
    torch.testing.assert_close(core._exp_(x.clone()).double(), got, rtol=2.4e-7, atol=3e-45)
    y = x[::2].clone()                             # a non-contiguous input: plain exp_
    assert torch.equal(core._exp_(x[::2]), y.exp())


def test_divergence_errors():
    with pytest.raises(ValueError, match=r"q_logits has shape \(2, 4\) but p_logits has shape \(2, 3\)"):
        companion.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="p_logits must be a floating-point tensor"):
        companion.js_divergence(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3))
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="probs must be non-negative and finite"):
            companion.entropy(torch.tensor([[0.5, 0.5], [0.5, bad]]))
    # finite, non-negative entries whose p log p overflows are valid: -inf, not an error
    assert companion.entropy(torch.tensor([3e38, 1.0])).item() == -math.inf
    with pytest.raises(TypeError, match="probs must be a torch.Tensor"):
        companion.entropy([0.5, 0.5])
    with pytest.raises(TypeError, match="dim must be an int"):
        companion.entropy(torch.full((2, 2), 0.25), dim=(0, 1))


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_core_cuda_matches_cpu(dtype, gen):
    z, y = rand(33, 7, gen=gen, scale=3.0).to(dtype), randint(7, 33, gen=gen)
    cpu = companion.cross_entropy(z, y, label_smoothing=0.1)
    gpu = companion.cross_entropy(z.cuda(), y.cuda(), label_smoothing=0.1)
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=1e-3)
    t = torch.rand(33, 7, generator=gen).to(dtype)
    torch.testing.assert_close(companion.binary_cross_entropy(z.cuda(), t.cuda()).cpu(),
                               companion.binary_cross_entropy(z, t), atol=1e-3, rtol=1e-3)
