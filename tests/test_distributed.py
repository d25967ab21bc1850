"""companion.distributed on real process groups: gloo on CPU, world sizes 1, 2 and 3.

Each world runs every case in one spawn (starting processes is the slow part); the workers save
their results and the test compares them with single-process float64 results to 1e-6.
"""
from __future__ import annotations

import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import companion
from companion.distributed import (global_normalizer, local_normalizer,
                                   vocab_parallel_cross_entropy,
                                   vocab_parallel_linear_cross_entropy)

V = 11            # not divisible by 2 or 3: uneven vocabulary slices
N, H = 9, 5


def _data():
    g = torch.Generator().manual_seed(7)
    z = torch.randn(N, V, generator=g, dtype=torch.float64) * 3
    y = torch.randint(V, (N,), generator=g)
    y[[2, 5]] = -100                                  # two ignored tokens
    return z, y


def _linear_data():
    g = torch.Generator().manual_seed(8)
    return (torch.randn(N, H, generator=g, dtype=torch.float64),
            torch.randn(V, H, generator=g, dtype=torch.float64),
            torch.randn(V, generator=g, dtype=torch.float64))


def _slices(world):
    """Uneven contiguous slices in rank order, e.g. 11 over 3 ranks: 4, 4, 3."""
    sizes = [V // world + (1 if r < V % world else 0) for r in range(world)]
    starts = [sum(sizes[:r]) for r in range(world)]
    return list(zip(starts, sizes))


def _dp_batches(world):
    """Micro-batches of different lengths per rank and step; rank 1 of 3 is all padding."""
    g = torch.Generator().manual_seed(11)
    x = torch.randn(23, H, generator=g, dtype=torch.float64)
    y = torch.randint(V, (23,), generator=g)
    y[torch.rand(23, generator=g) < 0.3] = -100
    cuts = {1: [[(0, 23)]], 2: [[(0, 3), (3, 12)], [(12, 23)]],
            3: [[(0, 9)], [(9, 13)], [(13, 18), (18, 23)]]}[world]
    if world == 3:
        y[9:13] = -100
    return x, y, cuts


def _worker(rank, world, init_file, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    results = {}
    z, y = _data()
    start, size = _slices(world)[rank]
    for smoothing in (0.0, 0.1):
        for reduction in ("mean", "sum", "none"):
            local = z[:, start:start + size].clone().requires_grad_(True)
            loss = vocab_parallel_cross_entropy(local, y, label_smoothing=smoothing,
                                                reduction=reduction)
            (loss if loss.dim() == 0 else loss.sum()).backward()
            results[("vp", smoothing, reduction)] = (loss.detach(), local.grad)
    # the linear form: this rank's rows of W and b, chunks of 4 rows
    hid, wfull, bfull = _linear_data()
    for smoothing in (0.0, 0.1):
        for reduction in ("mean", "none"):
            h_ = hid.clone().requires_grad_(True)
            w_ = wfull[start:start + size].clone().requires_grad_(True)
            b_ = bfull[start:start + size].clone().requires_grad_(True)
            loss = vocab_parallel_linear_cross_entropy(h_, w_, y, local_bias=b_, chunk_size=4,
                                                       label_smoothing=smoothing,
                                                       reduction=reduction)
            (loss if loss.dim() == 0 else (loss * torch.arange(N)).sum()).backward()
            results[("vpl", smoothing, reduction)] = (loss.detach(), h_.grad, w_.grad, b_.grad)
    # every token ignored: a mean of 0 with zero gradient on every rank
    local = z[:, start:start + size].clone().requires_grad_(True)
    loss = vocab_parallel_cross_entropy(local, torch.full((N,), -100))
    loss.backward()
    results["vp_ignored"] = (loss.detach(), local.grad)
    # data parallel with accumulation: sum losses / global normaliser, DDP-style averaging
    x, t, cuts = _dp_batches(world)
    w = torch.nn.Parameter(torch.linspace(-1, 1, V * H, dtype=torch.float64).reshape(V, H))
    count = sum(local_normalizer(t[a:b]) for a, b in cuts[rank])
    denom = global_normalizer(count)
    for a, b in cuts[rank]:
        companion.cross_entropy(x[a:b] @ w.T, t[a:b], reduction="sum").div(denom).backward()
    grad = w.grad.clone()
    dist.all_reduce(grad)
    grad /= world                                     # what DDP does
    value = torch.stack([companion.cross_entropy(x[a:b] @ w.T, t[a:b], reduction="sum")
                         for a, b in cuts[rank]]).sum().detach() / denom
    dist.all_reduce(value)
    value /= world
    results["dp"] = (value, grad)
    torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda w: f"world{w}")
def world_results(request):
    world = request.param
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(_worker, args=(world, os.path.join(tmp, "init"), tmp), nprocs=world,
                 join=True)
        return world, [torch.load(os.path.join(tmp, f"rank{r}.pt")) for r in range(world)]


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_vocab_parallel_equals_cross_entropy_on_gathered_logits(world_results, smoothing,
                                                                reduction):
    world, results = world_results
    z, y = _data()
    full = z.clone().requires_grad_(True)
    expected = companion.cross_entropy(full, y, label_smoothing=smoothing, reduction=reduction)
    (expected if expected.dim() == 0 else expected.sum()).backward()
    for rank, (start, size) in enumerate(_slices(world)):
        loss, grad = results[rank][("vp", smoothing, reduction)]
        torch.testing.assert_close(loss, expected.detach(), atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(grad, full.grad[:, start:start + size], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_vocab_parallel_linear_equals_cross_entropy_of_the_full_layer(world_results, smoothing,
                                                                      reduction):
    world, results = world_results
    _, y = _data()
    hid, wfull, bfull = (x.clone().requires_grad_(True) for x in _linear_data())
    expected = companion.cross_entropy(hid @ wfull.T + bfull, y, label_smoothing=smoothing,
                                       reduction=reduction)
    (expected if expected.dim() == 0 else (expected * torch.arange(N)).sum()).backward()
    for rank, (start, size) in enumerate(_slices(world)):
        loss, g_h, g_w, g_b = results[rank][("vpl", smoothing, reduction)]
        torch.testing.assert_close(loss, expected.detach(), atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(g_h, hid.grad, atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(g_w, wfull.grad[start:start + size], atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(g_b, bfull.grad[start:start + size], atol=1e-6, rtol=1e-6)


def test_vocab_parallel_all_ignored_gives_zero_not_nan(world_results):
    _, results = world_results
    for rank_results in results:
        loss, grad = rank_results["vp_ignored"]
        assert loss.item() == 0.0 and torch.count_nonzero(grad) == 0


def test_global_normalizer_gives_the_full_batch_mean_and_gradient(world_results):
    world, results = world_results
    x, t, _ = _dp_batches(world)
    w = torch.nn.Parameter(torch.linspace(-1, 1, V * H, dtype=torch.float64).reshape(V, H))
    expected = companion.cross_entropy(x @ w.T, t)
    expected.backward()
    for value, grad in (r["dp"] for r in results):
        torch.testing.assert_close(value, expected.detach(), atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(grad, w.grad, atol=1e-6, rtol=1e-6)


def test_mean_of_micro_batch_means_is_not_the_global_mean():
    """The pitfall the normaliser removes: unequal micro-batches weight tokens unequally."""
    x, t, cuts = _dp_batches(2)
    w = torch.linspace(-1, 1, V * H, dtype=torch.float64).reshape(V, H)
    pieces = [cut for rank in cuts for cut in rank]
    naive = torch.stack([companion.cross_entropy(x[a:b] @ w.T, t[a:b]) for a, b in pieces]).mean()
    right = companion.cross_entropy(x @ w.T, t)
    assert abs(naive - right) > 1e-3


def test_single_process_matches_cross_entropy_in_half_precision_and_rejects_bad_input():
    z, y = _data()
    half = z.to(torch.float16)
    got = vocab_parallel_cross_entropy(half, y)
    assert got.dtype == torch.float16
    ref = companion.cross_entropy(half.double(), y)
    assert abs(got.double() - ref) < 2e-3
    with pytest.raises(ValueError, match="class index 11"):
        vocab_parallel_cross_entropy(z, torch.full((N,), V))
    with pytest.raises(TypeError, match="integer class indices"):
        vocab_parallel_cross_entropy(z, y.double())
    with pytest.raises(ValueError, match="target has shape"):
        vocab_parallel_cross_entropy(z, y[:3])
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        vocab_parallel_cross_entropy(z, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be"):
        vocab_parallel_cross_entropy(z, y, reduction="avg")
    zz = z.clone().requires_grad_(True)
    loss = vocab_parallel_cross_entropy(zz, y)
    with pytest.raises(RuntimeError, match="double backward"):
        torch.autograd.grad(loss, zz, create_graph=True)
    before = z.clone()
    vocab_parallel_cross_entropy(z, y)
    assert torch.equal(before, z)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_single_process_row_blocks_match_one_block(monkeypatch, smoothing, reduction):
    """On the CPU the sums of exponentials and the gradient are taken a block of rows at a
    time; blocks of 2 rows (one shorter at the end), a transposed input, an ignored row and
    a row of -inf but one logit must give what one block gives, to float64 rounding."""
    from companion import _checks
    g = torch.Generator().manual_seed(3)
    z = (torch.randn(V, N, generator=g, dtype=torch.float64) * 3).t()   # not contiguous
    z[4, :-1] = -torch.inf
    y = torch.randint(V, (N,), generator=g)
    y[1], y[4] = -100, V - 1
    w = torch.randn(N, generator=g, dtype=torch.float64)
    results = []
    for block in (V * N, 2 * V):   # one block, then blocks of two rows
        monkeypatch.setattr(_checks, "ELEMENT_BLOCK", block)
        assert len(_checks.row_blocks(N, V, "cpu")) == (1 if block > V * N - 1 else 5)
        zz = z.clone().requires_grad_(True)
        loss = vocab_parallel_cross_entropy(zz, y, label_smoothing=smoothing,
                                            reduction=reduction)
        (loss if reduction == "mean" else loss @ w).backward()
        results.append((loss.detach(), zz.grad))
    zr = z.clone().requires_grad_(True)
    ref = companion.cross_entropy(zr, y, label_smoothing=smoothing, reduction=reduction)
    (ref if reduction == "mean" else ref @ w).backward()
    torch.testing.assert_close(results[1][0], ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(results[1][1], zr.grad, rtol=1e-12, atol=1e-15)
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)
    assert torch.isfinite(results[1][1]).all() and results[1][1][1].eq(0).all()


def test_local_normalizer_counts_and_weights():
    y = torch.tensor([0, 2, -100, 1, 2])
    w = torch.tensor([1.0, 0.5, 2.0])
    assert local_normalizer(y).item() == 4
    assert local_normalizer(y, weight=w).item() == 1.0 + 2.0 + 0.5 + 2.0
    target = torch.zeros(2, 3)
    mask = torch.tensor([[True, False, True], [False, False, True]])
    assert local_normalizer(target, mask=mask).item() == 3
    assert local_normalizer(target).item() == 6
    with pytest.raises(ValueError, match="mask has shape"):
        local_normalizer(target, mask=mask[:1])
    with pytest.raises(ValueError, match="weight must be finite"):
        local_normalizer(y, weight=torch.tensor([1.0, float("nan"), 1.0]))
    with pytest.raises(ValueError, match="local must be a finite count"):
        global_normalizer(torch.tensor(float("nan")))
