"""InfoNCE and NT-Xent (companion.contrastive)."""
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
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("negatives_shape", [None, (5, 7), (13, 4, 7)])
def test_info_nce_matches_reference(negatives_shape, reduction, dtype, atol, rtol, device, gen):
    q = rand(13, 7, gen=gen).to(dtype).to(device)
    k = rand(13, 7, gen=gen).to(dtype).to(device)
    neg = None if negatives_shape is None else rand(*negatives_shape, gen=gen).to(dtype).to(device)
    got = companion.info_nce(q, k, negatives=neg, temperature=0.2, reduction=reduction)
    assert got.dtype == dtype
    want = R.info_nce(_np(q), _np(k), negatives=None if neg is None else _np(neg), temperature=0.2,
                      reduction=reduction)
    # 1/temperature amplifies the rounding of the cosines in half precision
    np.testing.assert_allclose(_np(got), want, atol=atol * 20, rtol=rtol * 5)


def test_info_nce_is_cross_entropy_on_the_similarity_matrix(gen):
    q, k = rand(9, 4, gen=gen).requires_grad_(), rand(9, 4, gen=gen)
    tau = 0.07
    sim = F.cosine_similarity(q[:, None, :], k[None, :, :], dim=-1) / tau
    want = companion.cross_entropy(sim, torch.arange(9))
    got = companion.info_nce(q, k, temperature=tau)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got, F.cross_entropy(sim, torch.arange(9)))
    g1, = torch.autograd.grad(got, q)
    g2, = torch.autograd.grad(want, q)
    torch.testing.assert_close(g1, g2)


def test_info_nce_shared_negatives_equal_in_batch_when_they_are_the_other_keys(gen):
    q, k = rand(3, 5, gen=gen), rand(3, 5, gen=gen)
    per_query_negatives = torch.stack([k[[j for j in range(3) if j != i]] for i in range(3)])
    torch.testing.assert_close(companion.info_nce(q, k, negatives=per_query_negatives, reduction="none"),
                               companion.info_nce(q, k, reduction="none"))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nt_xent_matches_reference(reduction, dtype, atol, rtol, device, gen):
    z1 = rand(11, 6, gen=gen).to(dtype).to(device)
    z2 = rand(11, 6, gen=gen).to(dtype).to(device)
    got = companion.nt_xent(z1, z2, temperature=0.5, reduction=reduction)
    assert got.dtype == dtype
    if reduction == "none":
        assert got.shape == (22,)
    want = R.nt_xent(_np(z1), _np(z2), temperature=0.5, reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=atol * 10, rtol=rtol * 5)


def test_nt_xent_is_symmetric_and_uses_2n_minus_2_negatives(gen):
    z1, z2 = rand(5, 3, gen=gen), rand(5, 3, gen=gen)
    torch.testing.assert_close(companion.nt_xent(z1, z2), companion.nt_xent(z2, z1))
    # anchor 0: positive is row 5 of [z1; z2]; the 8 others (not itself) are negatives
    u = F.normalize(torch.cat([z1, z2]), dim=-1)
    s = u @ u.T / 0.5
    row = torch.cat([s[0, 5:6], s[0, 1:5], s[0, 6:]])
    assert row.numel() == 1 + 2 * 5 - 2
    want = -F.log_softmax(row, -1)[0]
    torch.testing.assert_close(companion.nt_xent(z1, z2, reduction="none")[0], want)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_contrastive_gradcheck(reduction, gen):
    q, k = rand(4, 3, gen=gen).requires_grad_(), rand(4, 3, gen=gen).requires_grad_()
    neg = rand(4, 2, 3, gen=gen).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: companion.info_nce(a, b, temperature=0.3, reduction=reduction), (q, k))
    assert torch.autograd.gradcheck(
        lambda a, b, c: companion.info_nce(a, b, negatives=c, temperature=0.3, reduction=reduction), (q, k, neg))
    assert torch.autograd.gradcheck(lambda a, b: companion.nt_xent(a, b, reduction=reduction), (q, k))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_contrastive_extreme_inputs_finite(dtype, gen):
    """Embeddings of size 1e4 (or 1e-2) are normalised first; tiny temperatures stay finite.

    (The true gradient grows like 1 / (tau |z|), so much smaller embeddings overflow float16's
    range in the mathematics itself, not in the kernel.)
    """
    for scale in (1e4, 1e-2):
        q = (scale * torch.sign(rand(6, 4, gen=gen))).to(dtype).requires_grad_()
        k = (scale * torch.sign(rand(6, 4, gen=gen))).to(dtype).requires_grad_()
        for loss in (companion.info_nce(q, k, temperature=0.01), companion.nt_xent(q, k, temperature=0.01)):
            g = torch.autograd.grad(loss, (q, k))
            assert torch.isfinite(loss) and all(bool(torch.isfinite(x).all()) for x in g)


def test_contrastive_inputs_unchanged(gen):
    q, k, n = rand(4, 3, gen=gen), rand(4, 3, gen=gen), rand(5, 3, gen=gen)
    before = snapshot(q, k, n)
    companion.info_nce(q, k)
    companion.info_nce(q, k, negatives=n)
    companion.nt_xent(q, k)
    assert_unchanged(before, q, k, n)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: companion.info_nce(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, 2)), TypeError,
     "query must be a floating-point tensor"),
    (lambda: companion.info_nce(torch.zeros(3), torch.zeros(3)), ValueError, r"query must have shape \(N, D\)"),
    (lambda: companion.info_nce(torch.ones(3, 2), torch.ones(4, 2)), ValueError,
     r"key has shape \(4, 2\) but query has shape \(3, 2\)"),
    (lambda: companion.info_nce(torch.ones(3, 2), torch.ones(3, 2), negatives=torch.ones(4, 3)), ValueError,
     r"negatives has shape \(4, 3\); expected \(M, 2\)"),
    (lambda: companion.info_nce(torch.ones(3, 2), torch.ones(3, 2), negatives=torch.ones(2, 4, 2)), ValueError,
     r"or \(3, M, 2\) per-query negatives"),
    (lambda: companion.info_nce(torch.ones(3, 2), torch.ones(3, 2), temperature=0), ValueError, "temperature must be > 0"),
    (lambda: companion.info_nce(torch.ones(3, 2), torch.ones(3, 2), reduction="mean_"), ValueError, "reduction must be"),
    (lambda: companion.nt_xent(torch.ones(1, 2), torch.ones(1, 2)), ValueError, "z1 must hold at least 2 examples"),
    (lambda: companion.nt_xent(torch.ones(3, 2), torch.ones(3, 3)), ValueError, r"z2 has shape \(3, 3\)"),
    (lambda: companion.nt_xent(torch.ones(3, 2), [1.0]), TypeError, "z2 must be a torch.Tensor"),
    (lambda: companion.nt_xent(torch.ones(3, 2), torch.ones(3, 2), temperature=-0.5), ValueError,
     "temperature must be > 0"),
])
def test_contrastive_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
