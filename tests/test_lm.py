"""companion.lm against its float64 references, the naive linear-then-cross-entropy form,
gradcheck and bad input."""
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


# ------------------------------------------------------------------ perplexity and bits

def test_perplexity_bits_match_reference_numbers_and_tensors():
    for x in [0.0, 1.5, math.log(50.0)]:
        assert companion.perplexity(x) == pytest.approx(float(R.perplexity(x)), rel=1e-15)
        assert companion.nats_to_bits(x) == pytest.approx(float(R.nats_to_bits(x)), rel=1e-15)
        assert companion.bits_per_character(x, 7) == pytest.approx(float(R.bits_per_character(x, 7)), rel=1e-15)
    t = torch.tensor([0.5, 2.0], dtype=torch.float64)
    np.testing.assert_allclose(_np(companion.perplexity(t)), R.perplexity(t.numpy()), rtol=1e-15)
    np.testing.assert_allclose(_np(companion.nats_to_bits(t)), R.nats_to_bits(t.numpy()), rtol=1e-15)
    np.testing.assert_allclose(_np(companion.bits_per_character(t, 3)),
                               R.bits_per_character(t.numpy(), 3), rtol=1e-15)


def test_perplexity_of_uniform_model_is_vocabulary_size(gen):
    z = torch.zeros(6, 50, dtype=torch.float64)
    y = randint(50, 6, gen=gen)
    assert companion.perplexity(companion.cross_entropy(z, y)).item() == pytest.approx(50.0, rel=1e-12)
    total = companion.cross_entropy(torch.zeros(8, 4, dtype=torch.float64), randint(4, 8, gen=gen),
                                    reduction="sum")
    assert companion.bits_per_character(total, 8).item() == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: companion.perplexity("1.0"), TypeError, "mean_nll_nats must be a real number"),
    (lambda: companion.perplexity(torch.tensor([1, 2])), TypeError, "mean_nll_nats must be a floating-point"),
    (lambda: companion.nats_to_bits(None), TypeError, "x must be a real number"),
    (lambda: companion.bits_per_character(1.0, 0), ValueError, "num_characters must be > 0"),
    (lambda: companion.bits_per_character(1.0, 2.5), TypeError, "num_characters must be an int"),
    (lambda: companion.bits_per_character([1.0], 2), TypeError, "total_nll_nats must be a real number"),
])
def test_perplexity_bits_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------- chunked_linear_cross_entropy

def _problem(n, h, v, gen, *, dtype=torch.float64, device="cpu", bias=False, ignore=False, scale=1.0):
    hidden = rand(n, h, gen=gen, dtype=dtype, device=device, scale=scale)
    weight = rand(v, h, gen=gen, dtype=dtype, device=device)
    b = rand(v, gen=gen, dtype=dtype, device=device) if bias else None
    target = randint(v, n, gen=gen, device=device)
    if ignore:
        target[::3] = -100
    return hidden, weight, b, target


def _naive(hidden, weight, target, bias=None, **kw):
    z = hidden @ weight.T
    return F.cross_entropy(z if bias is None else z + bias, target, **kw)


def _grads(out, params, seed=0):
    """Gradients of <g, out> for a fixed random g (all ones for a scalar)."""
    g = torch.ones_like(out) if out.dim() == 0 else torch.randn(
        out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype).to(out.device)
    return torch.autograd.grad(out, params, g)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction,use_bias,ignore,chunk",
                         list(itertools.product(REDUCTIONS, [False, True], [False, True], [1, 7, 16, 4096])))
def test_lce_equals_naive_float64(reduction, use_bias, ignore, chunk, device, gen):
    # N = 23 rows: chunk sizes 7 and 16 do not divide it
    hidden, weight, bias, target = _problem(23, 9, 31, gen, device=device, bias=use_bias, ignore=ignore, scale=2.0)
    params = [hidden.requires_grad_(), weight.requires_grad_()] + ([bias.requires_grad_()] if use_bias else [])
    ours = companion.chunked_linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=chunk,
                                                  reduction=reduction)
    theirs = _naive(hidden, weight, target, bias, reduction=reduction)
    torch.testing.assert_close(ours, theirs, atol=1e-10, rtol=1e-10)
    for a, b in zip(_grads(ours, params), _grads(theirs, params)):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_bias", [False, True])
def test_lce_matches_numpy_reference(reduction, use_bias, gen):
    hidden, weight, bias, target = _problem(17, 5, 13, gen, bias=use_bias, ignore=True)
    got = companion.chunked_linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=4,
                                                 reduction=reduction)
    want = R.chunked_linear_cross_entropy(hidden.numpy(), weight.numpy(), target.numpy(),
                                          bias=None if bias is None else bias.numpy(), chunk_size=4,
                                          reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_lce_matches_reference_per_dtype(dtype, atol, rtol, gen):
    hidden, weight, bias, target = _problem(29, 8, 19, gen, bias=True, ignore=True)
    hidden, weight, bias = hidden.to(dtype), weight.to(dtype), bias.to(dtype)
    got = companion.chunked_linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=6)
    assert got.dtype == dtype
    want = R.chunked_linear_cross_entropy(_np(hidden), _np(weight), target.numpy(), bias=_np(bias))
    # the logits are a sum of H = 8 products: allow for that in half precision
    np.testing.assert_allclose(_np(got), want, atol=4 * atol, rtol=4 * rtol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_bias", [False, True])
def test_lce_gradcheck(reduction, use_bias, gen):
    hidden, weight, bias, target = _problem(7, 3, 5, gen, bias=use_bias, ignore=True)
    inputs = (hidden.requires_grad_(), weight.requires_grad_()) + ((bias.requires_grad_(),) if use_bias else ())

    def f(h, w, *b):
        return companion.chunked_linear_cross_entropy(h, w, target, bias=b[0] if b else None,
                                                      chunk_size=3, reduction=reduction)
    assert torch.autograd.gradcheck(f, inputs)


def test_lce_batched_shape_and_non_default_ignore_index(gen):
    hidden = rand(2, 5, 4, gen=gen).requires_grad_()
    weight = rand(9, 4, gen=gen).requires_grad_()
    target = randint(9, 2, 5, gen=gen)
    target[0, 2] = 9  # ignored: out of range on purpose
    ours = companion.chunked_linear_cross_entropy(hidden, weight, target, chunk_size=3, ignore_index=9,
                                                  reduction="none")
    theirs = F.cross_entropy((hidden @ weight.T).movedim(-1, 1), target, ignore_index=9, reduction="none")
    assert ours.shape == (2, 5)
    torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-12)
    for a, b in zip(_grads(ours, [hidden, weight]), _grads(theirs, [hidden, weight])):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_lce_all_ignored_is_zero_with_zero_gradients(reduction, gen):
    hidden, weight, bias, _ = _problem(6, 4, 5, gen, bias=True)
    params = [hidden.requires_grad_(), weight.requires_grad_(), bias.requires_grad_()]
    target = torch.full((6,), -100)
    loss = companion.chunked_linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=4,
                                                  reduction=reduction)
    assert loss.item() == 0.0
    for g in torch.autograd.grad(loss, params):
        assert torch.equal(g, torch.zeros_like(g))
    if reduction == "mean":  # the peer's behaviour we improve on
        assert torch.isnan(_naive(hidden.detach(), weight.detach(), target, bias.detach()))


def test_lce_grad_output_scales_and_retain_graph_recomputes(gen):
    hidden, weight, bias, target = _problem(11, 4, 6, gen, bias=True, ignore=True)
    params = [hidden.requires_grad_(), weight.requires_grad_(), bias.requires_grad_()]
    loss = companion.chunked_linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=5)
    first = torch.autograd.grad(3.0 * loss, params, retain_graph=True)
    second = torch.autograd.grad(loss, params)  # the buffers were handed over: recomputed
    naive = torch.autograd.grad(_naive(hidden, weight, target, bias), params)
    for a, b, c in zip(first, second, naive):
        torch.testing.assert_close(a, 3.0 * c, atol=1e-12, rtol=1e-12)
        torch.testing.assert_close(b, c, atol=1e-12, rtol=1e-12)


def test_lce_only_needed_gradients(gen):
    hidden, weight, _, target = _problem(9, 3, 4, gen)
    weight.requires_grad_()
    loss = companion.chunked_linear_cross_entropy(hidden, weight, target, chunk_size=2)
    loss.backward()
    assert hidden.grad is None
    torch.testing.assert_close(weight.grad, torch.autograd.grad(_naive(hidden, weight, target), weight)[0])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_lce_half_accumulates_in_float32(dtype, gen):
    # many rows summed: a half-precision accumulator would drift; ours matches float32 closely
    hidden, weight, bias, target = _problem(300, 16, 40, gen, bias=True)
    hh, wh, bh = (t.to(dtype).requires_grad_() for t in (hidden, weight, bias))
    loss = companion.chunked_linear_cross_entropy(hh, wh, target, bias=bh, chunk_size=64, reduction="sum")
    grads = torch.autograd.grad(loss, [hh, wh, bh])
    assert loss.dtype == dtype and all(g.dtype == dtype for g in grads)
    h32, w32, b32 = (t.detach().float().requires_grad_() for t in (hh, wh, bh))
    ref = _naive(h32, w32, target, b32, reduction="sum")
    ref_grads = torch.autograd.grad(ref, [h32, w32, b32])
    # error against float32 on the same half inputs: rounding of the output only
    eps = torch.finfo(dtype).eps
    assert abs(loss.item() - ref.item()) <= eps * abs(ref.item())
    for g, r in zip(grads, ref_grads):
        assert (g.float() - r).abs().max().item() <= eps * r.abs().max().item()
    # and no worse than naive torch at the same dtype against a float64 ground truth
    truth = R.chunked_linear_cross_entropy(_np(hh), _np(wh), target.numpy(), bias=_np(bh), reduction="sum")
    naive = _naive(hh.detach(), wh.detach(), target, bh.detach(), reduction="sum").item()
    assert abs(loss.item() - truth) <= abs(naive - truth) + eps * abs(truth)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_lce_extreme_logits_finite(scale, gen):
    hidden, weight, _, target = _problem(8, 3, 6, gen, dtype=torch.float32)
    hidden = (hidden.sign() * scale).requires_grad_()
    weight.requires_grad_()
    loss = companion.chunked_linear_cross_entropy(hidden, weight, target, chunk_size=3)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(hidden.grad).all() and torch.isfinite(weight.grad).all()
    ref = _naive(hidden.detach().double(), weight.detach().double(), target)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)


def test_lce_inputs_unchanged(gen):
    hidden, weight, bias, target = _problem(10, 4, 7, gen, bias=True, ignore=True)
    before = snapshot(hidden, weight, bias, target)
    for reduction in REDUCTIONS:
        h, w, b = (t.clone().requires_grad_() for t in (hidden, weight, bias))
        out = companion.chunked_linear_cross_entropy(h, w, target, bias=b, chunk_size=3, reduction=reduction)
        out.sum().backward()
        assert_unchanged(before, h.detach(), w.detach(), b.detach(), target)
    assert_unchanged(before, hidden, weight, bias, target)


def test_lce_never_allocates_full_logits():
    # a (N, V) float64 buffer would be N * V * 8 bytes; record the largest allocation instead
    n, h, v, chunk = 64, 8, 1000, 16
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(n, h, generator=g, requires_grad=True)
    weight = torch.randn(v, h, generator=g, requires_grad=True)
    target = torch.randint(v, (n,), generator=g)
    sizes = []

    class Spy(torch.utils._python_dispatch.TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in (out if isinstance(out, (tuple, list)) else [out]):
                if isinstance(t, torch.Tensor):
                    sizes.append(t.numel())
            return out
    with Spy():
        loss = companion.chunked_linear_cross_entropy(hidden, weight, target, chunk_size=chunk)
        loss.backward()
    assert max(sizes) <= max(chunk * v, v * h)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(hidden=torch.ones(3, 4, dtype=torch.long)), TypeError, "hidden must be a floating-point tensor"),
    (dict(weight=torch.ones(5, 3)), ValueError, r"weight has shape \(5, 3\) but hidden has shape \(3, 4\)"),
    (dict(weight=torch.ones(5, 4, 1)), ValueError, r"weight must have shape \(V, H\)"),
    (dict(weight=torch.ones(5, 4, dtype=torch.float64)), TypeError, "weight has dtype torch.float64"),
    (dict(target=torch.tensor([0, 1, 5])), ValueError, "target has class index 5 but weight has 5 classes"),
    (dict(target=torch.tensor([0, -2, 1])), ValueError, "target has negative class index -2"),
    (dict(target=torch.tensor([0, 1])), ValueError, r"target has shape \(2,\) but hidden has shape \(3, 4\)"),
    (dict(target=torch.tensor([0.0, 1.0, 2.0])), TypeError, "target must hold integer class indices"),
    (dict(bias=torch.ones(4)), ValueError, r"bias has shape \(4,\) but must have shape \(5,\)"),
    (dict(bias=torch.ones(5, dtype=torch.float64)), TypeError, "bias has dtype torch.float64"),
    (dict(chunk_size=0), ValueError, "chunk_size must be > 0, got 0"),
    (dict(chunk_size=2.0), TypeError, "chunk_size must be an int"),
    (dict(ignore_index=None), TypeError, "ignore_index must be an int"),
    (dict(reduction="avg"), ValueError, "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
])
def test_lce_errors(kwargs, exc, match):
    args = dict(hidden=torch.ones(3, 4), weight=torch.ones(5, 4), target=torch.tensor([0, 1, 2]))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        companion.chunked_linear_cross_entropy(args.pop("hidden"), args.pop("weight"), args.pop("target"), **args)


@pytest.mark.cuda
def test_lce_cuda_matches_cpu(gen):
    hidden, weight, bias, target = _problem(37, 8, 50, gen, dtype=torch.float32, bias=True, ignore=True)
    cpu = companion.chunked_linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=16)
    cuda = companion.chunked_linear_cross_entropy(hidden.cuda(), weight.cuda(), target.cuda(),
                                                  bias=bias.cuda(), chunk_size=16)
    torch.testing.assert_close(cuda.cpu(), cpu, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="weight is on cpu but hidden is on cuda"):
        companion.chunked_linear_cross_entropy(hidden.cuda(), weight, target.cuda())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lce_rows_whose_softmax_underflows(dtype):
    # the first row's target probability is exp(-2000): 0 in any float, the loss still exact
    hidden = torch.tensor([[100.0, 0.0], [0.1, 0.2], [-3.0, 1.0]], dtype=dtype, requires_grad=True)
    weight = torch.tensor([[10.0, 0.0], [-10.0, 0.0], [0.0, 1.0]], dtype=dtype, requires_grad=True)
    target = torch.tensor([1, 2, 0])
    ours = companion.chunked_linear_cross_entropy(hidden, weight, target, chunk_size=2, reduction="none")
    theirs = _naive(hidden, weight, target, reduction="none")
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(ours, theirs, atol=tol, rtol=tol)
    assert ours[0].item() == pytest.approx(2000.0, rel=tol)
    for a, b in zip(_grads(ours, [hidden, weight]), _grads(theirs, [hidden, weight])):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_lce_rows_with_large_or_very_negative_logits_are_exact(reduction, gen):
    # rows whose logits sit near +45, +60, +100 (exp overflows without a shift), -45, -60,
    # -200 (exp underflows to 0) share chunks with ordinary rows: value and gradients match
    # the float64 composition in float64 and in float32
    hidden = torch.randn(10, 4, generator=gen, dtype=torch.float64)
    hidden[:, 0] = torch.tensor([1.0, 60.0, 0.0, 100.0, -60.0, 0.5, -200.0, 0.0, 45.0, -45.0],
                                dtype=torch.float64)
    weight = torch.randn(7, 4, generator=gen, dtype=torch.float64) * 0.05
    weight[:, 0] = 1.0 + 0.01 * torch.arange(7, dtype=torch.float64)
    target = torch.randint(7, (10,), generator=gen)
    hidden.requires_grad_(), weight.requires_grad_()
    want = _naive(hidden, weight, target, reduction=reduction)
    want_grads = _grads(want, [hidden, weight])
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        h = hidden.detach().to(dtype).requires_grad_()
        w = weight.detach().to(dtype).requires_grad_()
        got = companion.chunked_linear_cross_entropy(h, w, target, chunk_size=4,
                                                     reduction=reduction)
        torch.testing.assert_close(got.double(), want.detach(), atol=tol, rtol=tol)
        for a, b in zip(_grads(got, [h, w]), want_grads):
            torch.testing.assert_close(a.double(), b, atol=tol, rtol=tol)


@pytest.mark.parametrize("block", [1, 4, 7, 31])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_bias", [False, True])
def test_lce_vocabulary_tiles_equal_naive(block, reduction, use_bias, gen, monkeypatch):
    # the kernel makes each chunk's logits in vocabulary tiles (thousands of entries at real
    # sizes); small tiles here: 31 classes in 31, 8, 5 or 1 tiles, the last one shorter
    monkeypatch.setattr(companion.lm, "_vocab_block", lambda rows, v: min(v, block))
    hidden, weight, bias, target = _problem(23, 9, 31, gen, bias=use_bias, ignore=True, scale=2.0)
    params = [hidden.requires_grad_(), weight.requires_grad_()] + ([bias.requires_grad_()] if use_bias else [])
    for want_pred in (False, True):
        ours = companion.chunked_linear_cross_entropy(hidden, weight, target, bias=bias, chunk_size=7,
                                                      reduction=reduction,
                                                      return_predictions=want_pred)
        if want_pred:
            ours, pred = ours
            z = hidden @ weight.T + (0 if bias is None else bias)
            counted = target != -100
            assert torch.equal(pred[counted], z.argmax(1)[counted])
        theirs = _naive(hidden, weight, target, bias, reduction=reduction)
        torch.testing.assert_close(ours, theirs, atol=1e-10, rtol=1e-10)
        for a, b in zip(_grads(ours, params), _grads(theirs, params)):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_lce_predictions_take_the_first_of_tied_classes_across_tiles(monkeypatch):
    # classes 1 and 5 have the same weight row, in different tiles: argmax's first index wins
    monkeypatch.setattr(companion.lm, "_vocab_block", lambda rows, v: 3)
    g = torch.Generator().manual_seed(1)
    weight = torch.randn(8, 4, generator=g, dtype=torch.float64)
    weight[5] = weight[1]
    hidden = weight[1].repeat(3, 1) * torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    _, pred = companion.chunked_linear_cross_entropy(hidden, weight, torch.tensor([0, 1, 2]),
                                                     return_predictions=True)
    assert torch.equal(pred, (hidden @ weight.T).argmax(1))
    assert (pred == 1).all()


@pytest.mark.parametrize("dtype,gaps,redone", [
    # float32 redoes a row whose sum of exp(z - first tile's max) exceeds 2**63 (e^43.7)
    (torch.float32, [0.0, 20.0, 40.0, 50.0, 200.0, -30.0], [3, 4]),
    # float64 only past 2**511 (e^354)
    (torch.float64, [0.0, 40.0, 200.0, 300.0, 400.0, -30.0], [4]),
])
@pytest.mark.parametrize("offset", [0.0, 60.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_lce_rows_far_above_their_first_tile_are_redone_exactly(dtype, gaps, redone, reduction,
                                                                offset, monkeypatch):
    # row n's largest logit lies gaps[n] nats above the largest logit of the first tile of
    # four classes; a row whose sums would come near overflow is redone against its exact
    # maximum, the others are not; all match the float64 composition. Offset 0: the logits
    # are exponentiated as they are; offset 60 (every logit): against the first tile's max
    monkeypatch.setattr(companion.lm, "_vocab_block", lambda rows, v: 4)
    seen = []
    real = companion.lm._exact_columns

    def spy(w, b, h_t, e, blocks, cols, *rest):
        seen.extend(cols.tolist())
        return real(w, b, h_t, e, blocks, cols, *rest)
    monkeypatch.setattr(companion.lm, "_exact_columns", spy)
    g = torch.Generator().manual_seed(2)
    n, v = len(gaps), 12
    hidden = torch.cat([torch.tensor(gaps, dtype=torch.float64).unsqueeze(1),
                        torch.randn(n, 2, generator=g, dtype=torch.float64)], 1)
    weight = torch.randn(v, 3, generator=g, dtype=torch.float64) * 0.1
    weight[:, 0] = 0.0
    weight[8, 0] = 1.0  # class 8, in the third tile, carries the gap
    bias = torch.full((v,), offset, dtype=torch.float64)
    target = torch.tensor([8, 0, 5, 8, 3, 8])
    params = [hidden.requires_grad_(), weight.requires_grad_(), bias.requires_grad_()]
    want = _naive(*params[:2], target, params[2], reduction=reduction)
    want_grads = _grads(want, params)
    ours = [p.detach().to(dtype).requires_grad_() for p in params]
    got = companion.chunked_linear_cross_entropy(ours[0], ours[1], target, bias=ours[2],
                                                 chunk_size=6, reduction=reduction)
    assert sorted(set(seen)) == redone
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(got.double(), want.detach(), atol=tol, rtol=tol)
    for a, b in zip(_grads(got, ours), want_grads):
        torch.testing.assert_close(a.double(), b, atol=tol, rtol=tol)


@pytest.mark.parametrize("target_logit", [-60.0, -95.0, -103.0, -110.0])
def test_lce_unshifted_rows_with_a_tiny_target_exponential_are_exact(target_logit):
    # row 0's logits peak at -13 nats, inside the +-14 in which they are exponentiated
    # without a shift, so its sum is about e^-13; its target's exp(z_t) is subnormal or 0 in
    # float32 below about -87 nats while p_t = exp(z_t) / sum is still a normal float. Such
    # rows are recomputed from their logits, and the loss is exact
    hidden = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    weight = torch.zeros(6, 2, dtype=torch.float64)
    weight[:, 0] = torch.tensor([-13.0, -13.5, -14.0, -13.2, target_logit, -13.1])
    weight[:, 1] = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64)
    target = torch.tensor([4, 2])
    want = _naive(hidden, weight, target, reduction="none")
    got = companion.chunked_linear_cross_entropy(hidden.float(), weight.float(), target,
                                                 reduction="none")
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-6)


def test_lce_nan_hidden_row_stays_in_its_row(gen):
    hidden, weight, _, target = _problem(6, 3, 9, gen, dtype=torch.float32)
    hidden[2, 1] = float("nan")
    loss = companion.chunked_linear_cross_entropy(hidden, weight, target, chunk_size=4,
                                                  reduction="none")
    assert torch.isnan(loss[2]) and torch.isfinite(loss[[0, 1, 3, 4, 5]]).all()
    torch.testing.assert_close(loss[[0, 1, 3, 4, 5]],
                               _naive(hidden, weight, target, reduction="none")[[0, 1, 3, 4, 5]])


# ------------------------------------------------- the options LM trainers use (issue 15)

def _naive_lce(h, w, y, b=None, *, class_weight=None, label_smoothing=0.0, z_loss_scale=0.0,
               softcap=None, ignore_index=-100, reduction="mean"):
    """The composition the chunked kernel must equal: logits, cap, F.cross_entropy, z-loss."""
    z = h @ w.T + (0 if b is None else b)
    if softcap is not None:
        z = softcap * torch.tanh(z / softcap)
    loss = F.cross_entropy(z, y, weight=class_weight, label_smoothing=label_smoothing,
                           ignore_index=ignore_index, reduction=reduction)
    if z_loss_scale:
        counted = y != ignore_index
        zl = torch.where(counted, z_loss_scale * torch.logsumexp(z, -1) ** 2, 0.0)
        loss = loss + {"none": zl, "sum": zl.sum(), "mean": zl.sum() / counted.sum()}[reduction]
    return loss


OPTIONS = [
    pytest.param(dict(label_smoothing=0.1), id="smoothing"),
    pytest.param(dict(class_weight="w"), id="class_weight"),
    pytest.param(dict(class_weight="w", label_smoothing=0.2), id="weight+smoothing"),
    pytest.param(dict(z_loss_scale=1e-2), id="z_loss"),
    pytest.param(dict(softcap=3.0), id="softcap"),
    pytest.param(dict(class_weight="w", label_smoothing=0.1, z_loss_scale=1e-2, softcap=2.5),
                 id="all"),
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_lce_options_equal_the_naive_composition_in_value_and_gradients(options, reduction, gen):
    n, hdim, v = 13, 6, 9
    h = rand(n, hdim, gen=gen, scale=2.0).requires_grad_(True)
    w = rand(v, hdim, gen=gen).requires_grad_(True)
    b = rand(v, gen=gen).requires_grad_(True)
    y = randint(v, n, gen=gen)
    y[[1, 7]] = -100
    opts = dict(options)
    if opts.get("class_weight") == "w":
        opts["class_weight"] = torch.rand(v, generator=gen, dtype=torch.float64) + 0.2
    ours = companion.chunked_linear_cross_entropy(h, w, y, bias=b, chunk_size=4, reduction=reduction,
                                        **opts)
    naive = _naive_lce(h, w, y, b, reduction=reduction, **opts)
    torch.testing.assert_close(ours, naive, atol=1e-10, rtol=1e-10)
    g_out = torch.rand(ours.shape, generator=gen, dtype=torch.float64) + 0.5
    grads = torch.autograd.grad(ours, (h, w, b), g_out)
    expected = torch.autograd.grad(naive, (h, w, b), g_out)
    for got, exp in zip(grads, expected):
        torch.testing.assert_close(got, exp, atol=1e-10, rtol=1e-10)
    ref_opts = {k: (v_.numpy() if isinstance(v_, torch.Tensor) else v_) for k, v_ in opts.items()}
    ref = R.chunked_linear_cross_entropy(h.detach().numpy(), w.detach().numpy(),
                                                 y.numpy(), bias=b.detach().numpy(),
                                                 reduction=reduction, **ref_opts)
    np.testing.assert_allclose(ours.detach().numpy(), ref, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("options", OPTIONS[:1] + OPTIONS[-1:])
def test_lce_options_gradcheck(options, gen):
    n, hdim, v = 5, 3, 4
    h = rand(n, hdim, gen=gen).requires_grad_(True)
    w = rand(v, hdim, gen=gen).requires_grad_(True)
    y = randint(v, n, gen=gen)
    opts = dict(options)
    if opts.get("class_weight") == "w":
        opts["class_weight"] = torch.tensor([0.5, 1.0, 2.0, 1.5], dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda h_, w_: companion.chunked_linear_cross_entropy(h_, w_, y, chunk_size=2, **opts), (h, w))


def test_lce_predictions_give_the_accuracy_without_a_second_pass(gen):
    h, w = rand(20, 5, gen=gen), rand(8, 5, gen=gen)
    y = randint(8, 20, gen=gen)
    y[3] = -100
    loss, pred = companion.chunked_linear_cross_entropy(h, w, y, chunk_size=6, return_predictions=True)
    z = h @ w.T
    assert pred.dtype == torch.long and pred.shape == y.shape
    assert pred[3] == -100
    counted = y != -100
    assert torch.equal(pred[counted], z.argmax(1)[counted])
    capped_loss, capped_pred = companion.chunked_linear_cross_entropy(
        h, w, y, softcap=1.0, label_smoothing=0.1, return_predictions=True)
    assert torch.equal(capped_pred, pred)  # tanh is monotone: the argmax does not move
    torch.testing.assert_close(loss, F.cross_entropy(z, y))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_lce_options_in_half_precision_are_no_worse_than_naive_torch(dtype, gen):
    h, w = rand(32, 16, gen=gen), rand(50, 16, gen=gen)
    y = randint(50, 32, gen=gen)
    opts = dict(label_smoothing=0.1, z_loss_scale=1e-3, softcap=5.0)
    exact = _naive_lce(h, w, y, **opts)
    ours = companion.chunked_linear_cross_entropy(h.to(dtype), w.to(dtype), y, **opts)
    naive = _naive_lce(h.to(dtype), w.to(dtype), y, **opts)
    assert ours.dtype == dtype
    assert abs(ours.double() - exact) <= abs(naive.double() - exact) + 2e-3


def test_lce_double_backward_raises_instead_of_dropping_the_gradient(gen):
    h = rand(6, 3, gen=gen).requires_grad_(True)
    w = rand(5, 3, gen=gen)
    y = randint(5, 6, gen=gen)
    for options in ({}, dict(label_smoothing=0.1)):
        for reduction in ("mean", "none"):
            loss = companion.chunked_linear_cross_entropy(h, w, y, reduction=reduction, **options)
            with pytest.raises(RuntimeError, match="double backward"):
                torch.autograd.grad(loss.sum(), h, create_graph=True)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(class_weight=torch.ones(3)), ValueError, r"class_weight has shape \(3,\)"),
    (dict(class_weight=torch.tensor([1.0, float("nan"), 1.0, 1.0, 1.0])), ValueError,
     "class_weight must be finite"),
    (dict(class_weight=-torch.ones(5)), ValueError, "class_weight must be finite and >= 0"),
    (dict(class_weight=torch.ones(5, dtype=torch.long)), TypeError, "class_weight"),
    (dict(label_smoothing=1.5), ValueError, r"label_smoothing must be in \[0, 1\]"),
    (dict(label_smoothing=float("nan")), ValueError, "label_smoothing must be finite"),
    (dict(z_loss_scale=-1.0), ValueError, "z_loss_scale must be >= 0"),
    (dict(z_loss_scale=float("inf")), ValueError, "z_loss_scale must be finite"),
    (dict(softcap=0.0), ValueError, "softcap must be None or > 0"),
    (dict(softcap="30"), TypeError, "softcap must be a real number"),
    (dict(return_predictions=1), TypeError, "return_predictions must be a bool"),
])
def test_lce_option_errors(kwargs, exc, match):
    h, w = torch.randn(4, 3), torch.randn(5, 3)
    with pytest.raises(exc, match=match):
        companion.chunked_linear_cross_entropy(h, w, torch.tensor([0, 1, 2, 3]), **kwargs)


def test_lce_options_all_ignored_is_zero_with_zero_gradients(gen):
    h = rand(4, 3, gen=gen).requires_grad_(True)
    w = rand(5, 3, gen=gen).requires_grad_(True)
    loss = companion.chunked_linear_cross_entropy(h, w, torch.full((4,), -100), class_weight=torch.ones(
        5, dtype=torch.float64), label_smoothing=0.1, z_loss_scale=0.1, softcap=2.0)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.count_nonzero(h.grad) == 0 and torch.count_nonzero(w.grad) == 0
