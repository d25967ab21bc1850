"""Label smoothing, ordinal smoothing and mixup (companion.targets)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, randint, snapshot


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_smooth_labels_hard_matches_reference(dtype, atol, rtol, device, gen):
    t = randint(7, 3, 5, gen=gen, device=device)
    got = companion.smooth_labels(t, 7, 0.15, dtype=dtype)
    assert got.dtype == dtype and got.shape == (3, 5, 7) and got.device.type == device
    np.testing.assert_allclose(got.double().cpu().numpy(), R.smooth_labels(t.cpu().numpy(), 7, 0.15),
                               atol=atol, rtol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_smooth_labels_soft_matches_reference(dtype, atol, rtol, device, gen):
    soft = torch.softmax(rand(11, 6, gen=gen), -1).to(dtype).to(device)
    got = companion.smooth_labels(soft, 6, 0.3)
    assert got.dtype == dtype
    want = R.smooth_labels(soft.double().cpu().numpy(), 6, 0.3)
    np.testing.assert_allclose(got.double().cpu().numpy(), want, atol=atol, rtol=rtol)


def test_smooth_labels_equal_cross_entropy_label_smoothing(gen):
    z = rand(13, 5, gen=gen)
    t = randint(5, 13, gen=gen)
    soft = companion.smooth_labels(t, 5, 0.2, dtype=torch.float64)
    torch.testing.assert_close(companion.cross_entropy(z, soft),
                               companion.cross_entropy(z, t, label_smoothing=0.2))
    # rows are distributions; alpha = 1 is uniform, alpha = 0 is one-hot
    torch.testing.assert_close(soft.sum(-1), torch.ones(13, dtype=torch.float64))
    assert torch.equal(companion.smooth_labels(t, 5, 1.0), torch.full((13, 5), 0.2))
    assert torch.equal(companion.smooth_labels(t, 5, 0.0), torch.nn.functional.one_hot(t, 5).float())


@pytest.mark.parametrize("k", [2, 3, 7])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_ordinal_smooth_labels_matches_reference(k, dtype, atol, rtol, device, gen):
    t = randint(k, 4, 9, gen=gen, device=device)
    got = companion.ordinal_smooth_labels(t, k, 0.3, dtype=dtype)
    assert got.dtype == dtype and got.shape == (4, 9, k)
    np.testing.assert_allclose(got.double().cpu().numpy(),
                               R.ordinal_smooth_labels(t.cpu().numpy(), k, 0.3), atol=atol, rtol=rtol)


def test_ordinal_smooth_labels_structure():
    rows = companion.ordinal_smooth_labels(torch.arange(5), 5, 0.2, dtype=torch.float64)
    torch.testing.assert_close(rows.sum(-1), torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(torch.diagonal(rows), torch.full((5,), 0.8, dtype=torch.float64))
    # edges give all of eps to their single neighbour, interior ranks split it in two
    assert rows[0, 1].item() == pytest.approx(0.2) and rows[4, 3].item() == pytest.approx(0.2)
    assert rows[2, 1].item() == pytest.approx(0.1) and rows[2, 3].item() == pytest.approx(0.1)
    # nothing beyond the neighbours
    far = torch.ones(5, 5, dtype=torch.bool).triu(2) | torch.ones(5, 5, dtype=torch.bool).tril(-2)
    assert bool((rows[far] == 0).all())


def test_targets_leave_inputs_unchanged(gen):
    t = randint(4, 10, gen=gen)
    soft = torch.softmax(rand(10, 4, gen=gen), -1)
    x = rand(10, 3, gen=gen)
    before = snapshot(t, soft, x)
    companion.smooth_labels(t, 4, 0.1)
    companion.smooth_labels(soft, 4, 0.1)
    companion.ordinal_smooth_labels(t, 4, 0.1)
    companion.mixup(x, soft, 0.4, generator=gen)
    assert_unchanged(before, t, soft, x)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: companion.smooth_labels([0, 1], 3, 0.1), TypeError, "target must be a torch.Tensor"),
    (lambda: companion.smooth_labels(torch.tensor([0, 3]), 3, 0.1), ValueError,
     "target has class index 3 but num_classes is 3"),
    (lambda: companion.smooth_labels(torch.tensor([0, -1]), 3, 0.1), ValueError,
     "target has negative class index -1"),
    (lambda: companion.smooth_labels(torch.tensor([0, 1]), 3, 1.5), ValueError, "alpha must be <= 1.0"),
    (lambda: companion.smooth_labels(torch.tensor([0, 1]), 3, -0.1), ValueError, "alpha must be >= 0"),
    (lambda: companion.smooth_labels(torch.tensor([0, 1]), 3, "a"), TypeError, "alpha must be a real number"),
    (lambda: companion.smooth_labels(torch.tensor([0, 1]), 0, 0.1), ValueError, "num_classes must be an int >= 1"),
    (lambda: companion.smooth_labels(torch.ones(2, 4) / 4, 3, 0.1), ValueError,
     "a soft target must have num_classes=3 entries"),
    (lambda: companion.smooth_labels(-torch.ones(2, 3), 3, 0.1), ValueError, r"target must lie in \[0, 1\]"),
    (lambda: companion.smooth_labels(torch.tensor([True]), 3, 0.1), TypeError, "integer class indices"),
    (lambda: companion.smooth_labels(torch.tensor([0]), 3, 0.1, dtype=torch.int64), TypeError,
     "dtype must be a floating torch.dtype"),
    (lambda: companion.ordinal_smooth_labels(torch.tensor([0]), 1, 0.1), ValueError,
     "num_classes must be an int >= 2"),
    (lambda: companion.ordinal_smooth_labels(torch.tensor([0.0]), 3, 0.1), TypeError,
     "target must hold integer class indices"),
    (lambda: companion.ordinal_smooth_labels(torch.tensor([5]), 3, 0.1), ValueError,
     "target has class index 5 but num_classes is 3"),
    (lambda: companion.ordinal_smooth_labels(torch.tensor([1]), 3, 2.0), ValueError, "eps must be <= 1.0"),
])
def test_smoothing_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_mixup_matches_reference(dtype, atol, rtol, device):
    g = torch.Generator().manual_seed(7)
    x = rand(23, 3, 2, gen=g).to(dtype).to(device)
    y = torch.softmax(rand(23, 5, gen=g), -1).to(dtype).to(device)
    xm, ym, lam = companion.mixup(x, y, 0.4, generator=torch.Generator().manual_seed(3))
    rx, ry, rlam = R.mixup(x.double().cpu().numpy(), y.double().cpu().numpy(), 0.4,
                           generator=torch.Generator().manual_seed(3))
    assert lam == rlam and 0 <= lam <= 1
    assert xm.dtype == dtype and ym.dtype == dtype and xm.device.type == device
    np.testing.assert_allclose(xm.double().cpu().numpy(), rx, atol=atol, rtol=rtol)
    np.testing.assert_allclose(ym.double().cpu().numpy(), ry, atol=atol, rtol=rtol)


def test_mixup_properties(gen):
    x = rand(64, 4, gen=gen)
    y = companion.smooth_labels(randint(3, 64, gen=gen), 3, 0.0, dtype=torch.float64)
    xm, ym, lam = companion.mixup(x, y, 1.0, generator=gen)
    # mixed targets stay distributions, and the mixing is the same convex map for x and y
    torch.testing.assert_close(ym.sum(-1), torch.ones(64, dtype=torch.float64))
    torch.testing.assert_close(xm.sum(0), x.sum(0))  # a permutation mixes mass, it keeps the total
    # alpha = 0: no mixing
    x0, y0, lam0 = companion.mixup(x, y, 0.0, generator=gen)
    assert lam0 == 1.0 and torch.equal(x0, x) and torch.equal(y0, y)
    # reproducible from the generator
    a = companion.mixup(x, y, 0.4, generator=torch.Generator().manual_seed(5))
    b = companion.mixup(x, y, 0.4, generator=torch.Generator().manual_seed(5))
    assert a[2] == b[2] and torch.equal(a[0], b[0])


def test_mixup_lambda_is_beta_distributed():
    g = torch.Generator().manual_seed(0)
    x, y = torch.zeros(2, 1), torch.eye(2)
    lams = torch.tensor([companion.mixup(x, y, 0.5, generator=g)[2] for _ in range(4000)])
    # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)) = 1/8 for a = 0.5
    assert abs(lams.mean().item() - 0.5) < 0.02
    assert abs(lams.var().item() - 0.125) < 0.01


def test_mixup_is_differentiable(gen):
    x = rand(6, 3, gen=gen).requires_grad_()
    y = torch.softmax(rand(6, 4, gen=gen), -1)
    xm, _, lam = companion.mixup(x, y, 0.4, generator=gen)
    xm.sum().backward()
    # every example appears once as itself (lam) and once as a partner (1 - lam)
    torch.testing.assert_close(x.grad, torch.ones_like(x))


@pytest.mark.parametrize("args,kwargs,exc,match", [
    ((torch.zeros(3, 2, dtype=torch.long), torch.eye(3), 0.2), {}, TypeError, "x must be a floating-point tensor"),
    ((torch.zeros(3, 2), torch.tensor([0, 1, 2]), 0.2), {}, TypeError, "y must be a floating-point tensor"),
    ((torch.zeros(3, 2), torch.eye(4), 0.2), {}, ValueError, r"y has shape \(4, 4\) but must be \(N, K\)"),
    ((torch.zeros(3, 2), torch.ones(3), 0.2), {}, ValueError, r"y has shape \(3,\)"),
    ((torch.zeros(0, 2), torch.zeros(0, 2), 0.2), {}, ValueError, "x must have a non-empty batch axis"),
    ((torch.zeros(3, 2), -torch.eye(3), 0.2), {}, ValueError, r"y must lie in \[0, 1\]"),
    ((torch.zeros(3, 2), torch.eye(3), -1.0), {}, ValueError, "alpha must be >= 0"),
    ((torch.zeros(3, 2), torch.eye(3), 0.2), dict(generator=0), TypeError, "generator must be a torch.Generator"),
])
def test_mixup_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        companion.mixup(*args, **kwargs)
