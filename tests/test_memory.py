"""Tests for companion.memory.TensorMemoryTracker."""
import torch
import torch.nn.functional as F

from companion.lm import chunked_linear_cross_entropy
from companion.memory import TensorMemoryTracker


def test_counts_new_storage_once_and_frees():
    x = torch.zeros(256)
    with TensorMemoryTracker() as mem:
        y = x + 1                      # 1 KiB new
        y.add_(1)                      # in place: nothing new
        v = y[:10]                     # a view: nothing new
        torch.mul(x, 2, out=y)         # out=: nothing new
        del y, v
        z = torch.empty(512)           # 2 KiB, after y was freed
    assert mem.peak == 2048 and mem.current == 2048
    del z


def test_deterministic_and_matches_the_logits_size():
    n, h, v = 64, 8, 1000
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(n, h, generator=g, requires_grad=True)
    w = torch.randn(v, h, generator=g, requires_grad=True)
    y = torch.randint(v, (n,), generator=g)
    peaks = []
    for _ in range(2):
        hidden.grad = w.grad = None
        with TensorMemoryTracker() as mem:
            F.cross_entropy(hidden @ w.T, y).backward()
        peaks.append(mem.peak)
    assert peaks[0] == peaks[1]
    # logits, log-softmax and their gradient: three (n, v) float32 matrices
    assert abs(peaks[0] / (3 * n * v * 4) - 1) < 0.02
    hidden.grad = w.grad = None
    with TensorMemoryTracker() as mem:
        chunked_linear_cross_entropy(hidden, w, y, chunk_size=16).backward()
    assert mem.peak < peaks[0] / 3
