"""Shared fixtures: devices, dtypes and their tolerances, seeded generators."""
from __future__ import annotations

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()

#: devices every parity test runs on; CUDA cases carry the ``cuda`` mark and skip without a GPU
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=[pytest.mark.cuda]),
]

#: (dtype, atol, rtol) for comparisons against the float64 reference
DTYPE_TOLERANCES = [
    pytest.param(torch.float64, 1e-10, 1e-10, id="float64"),
    pytest.param(torch.float32, 1e-5, 1e-5, id="float32"),
    pytest.param(torch.bfloat16, 5e-2, 5e-2, id="bfloat16"),
    pytest.param(torch.float16, 5e-3, 5e-3, id="float16"),
]


def pytest_collection_modifyitems(config, items):
    if HAS_CUDA:
        return
    skip = pytest.mark.skip(reason="no CUDA device present")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _closed_forms_under_test(monkeypatch):
    """``cross_entropy`` hands batches of under ``core._SMALL_BATCH`` logits to
    ``F.cross_entropy``; the unit tests set that threshold to 0, so that the closed-form
    kernels, not PyTorch's, are what they test (test_core tests the hand-over itself)."""
    from companion import core
    monkeypatch.setattr(core, "_SMALL_BATCH", 0)


@pytest.fixture
def gen() -> torch.Generator:
    """A fresh CPU generator with a fixed seed for every test."""
    return torch.Generator().manual_seed(1234)


def rand(*shape, gen, dtype=torch.float64, scale=1.0, device="cpu"):
    """Seeded standard-normal tensor (drawn in float64 on the CPU, then cast and moved)."""
    return (scale * torch.randn(*shape, generator=gen, dtype=torch.float64)).to(dtype).to(device)


def randint(high, *shape, gen, device="cpu"):
    return torch.randint(high, shape, generator=gen).to(device)


def snapshot(*tensors):
    """Copies of the inputs, to assert afterwards that a kernel left them unchanged."""
    return [t.clone() for t in tensors]


def assert_unchanged(before, *after):
    for b, a in zip(before, after):
        assert torch.equal(b, a), "a kernel modified its input"
