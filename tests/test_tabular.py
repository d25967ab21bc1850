"""Mixed-type reconstruction loss (companion.tabular)."""
from __future__ import annotations


import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, snapshot

# columns: 0-1 binary, 2-3 continuous, 4-6 a 3-way group, 7-10 a 4-way group; 11-12 log-variances
SPEC = {"binary": [0, 1], "continuous": [2, 3], "categorical": [[4, 5, 6], [7, 8, 9, 10]]}
GAUSS = dict(SPEC, continuous_loss="gaussian_nll", log_var=[11, 12])


def _data(gen, n=37, dtype=torch.float64, device="cpu"):
    binary = (torch.rand(n, 2, generator=gen) > 0.5).double()
    continuous = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    g1 = F.one_hot(torch.randint(3, (n,), generator=gen), 3).double()
    g2 = F.one_hot(torch.randint(4, (n,), generator=gen), 4).double()
    batch = torch.cat([binary, continuous, g1, g2], 1)
    outputs = rand(n, 13, gen=gen, scale=2.0)
    return outputs.to(dtype).to(device), batch.to(dtype).to(device)


# "cat_same_size": groups of one size, interleaved and out of order, batched together
@pytest.mark.parametrize("spec", [SPEC, GAUSS, {"binary": [1]}, {"categorical": [[4, 5, 6]]},
                                  {"categorical": [[7, 9], [4, 6], [10, 8], [5, 1]]}],
                         ids=["se", "gauss", "binary", "cat", "cat_same_size"])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_mixed_reconstruction_matches_reference(dtype, atol, rtol, device, spec, gen):
    outputs, batch = _data(gen, dtype=dtype, device=device)
    got = companion.mixed_reconstruction_loss(outputs, batch, spec)
    want = R.mixed_reconstruction_loss(outputs.double().cpu().numpy(), batch.double().cpu().numpy(), spec)
    assert set(got) == {"binary", "continuous", "categorical", "total"}
    for name in got:
        assert got[name].dtype == dtype
        np.testing.assert_allclose(got[name].double().item(), want[name], atol=atol * 10, rtol=rtol)


def test_mixed_reconstruction_torch_peers_and_gradcheck(gen):
    outputs, batch = _data(gen)
    got = companion.mixed_reconstruction_loss(outputs, batch, GAUSS)
    n = len(batch)
    bce = F.binary_cross_entropy_with_logits(outputs[:, :2], batch[:, :2], reduction="sum") / n
    nll = F.gaussian_nll_loss(outputs[:, 2:4], batch[:, 2:4], outputs[:, 11:13].exp(), full=True, reduction="sum") / n
    ce = (F.cross_entropy(outputs[:, 4:7], batch[:, 4:7], reduction="sum")
          + F.cross_entropy(outputs[:, 7:11], batch[:, 7:11], reduction="sum")) / n
    torch.testing.assert_close(got["binary"], bce)
    torch.testing.assert_close(got["continuous"], nll)
    torch.testing.assert_close(got["categorical"], ce)
    se = companion.mixed_reconstruction_loss(outputs, batch, SPEC)["continuous"]
    torch.testing.assert_close(se, F.mse_loss(outputs[:, 2:4], batch[:, 2:4], reduction="sum") / (2 * n))
    x = outputs[:5].clone().requires_grad_()  # a few rows: gradcheck perturbs every entry
    for spec in (SPEC, GAUSS):
        assert torch.autograd.gradcheck(lambda o: companion.mixed_reconstruction_loss(o, batch[:5], spec)["total"], (x,))


def test_mixed_reconstruction_empty_spec_and_extremes(gen):
    outputs, batch = _data(gen)
    empty = companion.mixed_reconstruction_loss(outputs, batch, {})
    assert all(v.item() == 0.0 for v in empty.values())
    for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16):
        big = (1e4 * torch.sign(outputs)).to(dtype)
        big[:, 11:13] = 0  # unit variance: a squared error of 1e8 is the true (finite) value in float32
        big[:, 2:4] = 0
        x = big.requires_grad_()
        loss = companion.mixed_reconstruction_loss(x, batch.to(dtype), GAUSS)["total"]
        loss.backward()
        assert torch.isfinite(loss) and bool(torch.isfinite(x.grad).all())


def test_mixed_reconstruction_inputs_unchanged(gen):
    outputs, batch = _data(gen)
    before = snapshot(outputs, batch)
    companion.mixed_reconstruction_loss(outputs, batch, GAUSS)
    assert_unchanged(before, outputs, batch)


@pytest.mark.parametrize("spec,kwargs,exc,match", [
    ([0], {}, TypeError, "spec must be a dict"),
    ({"numeric": [0]}, {}, ValueError, "spec has unknown key 'numeric'"),
    ({"binary": [20]}, {}, ValueError, r"spec\['binary'\] has column 20 but the tensor has 11 columns"),
    ({"binary": "ab"}, {}, TypeError, r"spec\['binary'\] must be a list of column indices"),
    ({"binary": [2]}, {}, ValueError, r"batch has binary columns outside \[0, 1\]"),
    ({"categorical": [[2, 3]]}, {}, ValueError, r"batch has one-hot columns outside \[0, 1\]"),
    ({"categorical": 3}, {}, TypeError, r"spec\['categorical'\] must be a list of column lists"),
    ({"categorical": [[4, 5, 6], []]}, {}, ValueError, r"spec\['categorical'\] has an empty group"),
    ({"continuous": [2], "continuous_loss": "l1"}, {}, ValueError, r"spec\['continuous_loss'\] must be"),
    ({"continuous": [2], "continuous_loss": "gaussian_nll"}, {}, ValueError, r"spec\['log_var'\] must list"),
    ({"continuous": [2], "continuous_loss": "gaussian_nll", "log_var": [11, 12]}, {}, ValueError,
     r"spec\['log_var'\] has 2 columns but spec\['continuous'\] has 1"),
    (SPEC, dict(outputs=torch.zeros(5, 13)), ValueError, r"outputs has shape \(5, 13\) and batch has shape \(37, 11\)"),
    (SPEC, dict(outputs=torch.zeros(37, 13, dtype=torch.long)), TypeError, "outputs must be a floating-point tensor"),
    (SPEC, dict(batch=torch.zeros(37, 11, dtype=torch.long)), TypeError, "batch must be a floating-point tensor"),
])
def test_mixed_reconstruction_errors(spec, kwargs, exc, match, gen):
    outputs, batch = _data(gen)
    outputs, batch = kwargs.get("outputs", outputs), kwargs.get("batch", batch)
    with pytest.raises(exc, match=match):
        companion.mixed_reconstruction_loss(outputs, batch, spec)
