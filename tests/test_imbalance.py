"""Class weights, sampling weights, logit adjustment and the imbalanced-data generator."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import companion
from companion import reference as R
from companion.datasets import imbalanced_blobs

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, randint, snapshot


@pytest.mark.parametrize("scheme", ["inverse", "inverse_sqrt", "effective"])
@pytest.mark.parametrize("normalize", [True, False])
def test_class_weights_match_reference(scheme, normalize):
    counts = torch.tensor([5000.0, 700.0, 40.0, 3.0], dtype=torch.float64)
    got = companion.class_weights(counts, scheme, beta=0.99, normalize=normalize)
    want = R.class_weights(counts.numpy(), scheme, beta=0.99, normalize=normalize)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    if normalize:
        assert abs(got.mean().item() - 1.0) < 1e-12


def test_inverse_weights_are_proportional_to_inverse_priors():
    counts = torch.tensor([900, 90, 10])
    w = companion.class_weights(counts, normalize=False)
    priors = counts / counts.sum()
    ratio = w * priors
    torch.testing.assert_close(ratio, ratio[0].expand(3))
    assert w.dtype == torch.get_default_dtype()


def test_effective_number_interpolates():
    counts = torch.tensor([1000.0, 10.0])
    flat = companion.class_weights(counts, "effective", beta=0.0)
    torch.testing.assert_close(flat, torch.ones(2))
    near_inverse = companion.class_weights(counts, "effective", beta=1 - 1e-9)
    torch.testing.assert_close(near_inverse, companion.class_weights(counts), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("counts,kwargs,exc,match", [
    ([3, 0, 2], {}, ValueError, "counts must be positive"),
    ([[1, 2]], {}, ValueError, "counts must be a non-empty 1-D tensor"),
    ([], {}, ValueError, "counts must be a non-empty 1-D tensor"),
    ("abc", {}, TypeError, "counts must be a 1-D tensor or sequence of numbers"),
    ([3, 2], dict(scheme="log"), ValueError, "scheme must be 'inverse', 'inverse_sqrt' or 'effective'"),
    ([3, 2], dict(scheme="effective", beta=1.0), ValueError, r"beta must lie in \[0, 1\)"),
    ([3, 2], dict(scheme="effective", beta=-0.5), ValueError, "beta must be >= 0"),
])
def test_class_weights_errors(counts, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        companion.class_weights(counts, **kwargs)


def test_sampling_weights_balance_the_classes(gen):
    labels = torch.tensor([0] * 90 + [1] * 9 + [2] * 1)
    w = companion.sampling_weights(labels)
    np.testing.assert_allclose(w.numpy(), R.sampling_weights(labels.numpy()), rtol=1e-6)
    per_class = torch.zeros(3).index_add_(0, labels, w)
    torch.testing.assert_close(per_class, torch.ones(3))
    sampler = torch.utils.data.WeightedRandomSampler(w, 30000, generator=gen)
    drawn = labels[list(sampler)].bincount(minlength=3) / 30000
    assert (drawn - 1 / 3).abs().max() < 0.02


@pytest.mark.parametrize("labels,num_classes,exc,match", [
    (torch.tensor([0.0, 1.0]), None, TypeError, "labels must hold integer class indices"),
    (torch.tensor([[0, 1]]), None, ValueError, "labels must be a non-empty 1-D tensor"),
    (torch.tensor([0, -1]), None, ValueError, "labels has negative class index -1"),
    (torch.tensor([0, 3]), 2, ValueError, "labels has class index 3 but num_classes is 2"),
    (torch.tensor([0, 1]), 0, ValueError, "num_classes must be a positive int"),
    ([0, 1], None, TypeError, "labels must be a torch.Tensor"),
])
def test_sampling_weights_errors(labels, num_classes, exc, match):
    with pytest.raises(exc, match=match):
        companion.sampling_weights(labels, num_classes)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_logit_adjust_matches_reference(dtype, atol, rtol, device, gen):
    z = rand(5, 4, gen=gen).to(dtype).to(device)
    priors = torch.tensor([0.7, 0.2, 0.07, 0.03], dtype=dtype, device=device)
    got = companion.logit_adjust(z, priors, tau=0.5)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.double().cpu().numpy(),
                               R.logit_adjust(z.double().cpu().numpy(), priors.double().cpu().numpy(), 0.5),
                               atol=atol, rtol=rtol)


def test_logit_adjust_is_bayes_prior_shift(gen):
    """softmax(z + log pi) is the posterior under priors pi when softmax(z) is the balanced one."""
    z = rand(6, 3, gen=gen)
    priors = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
    balanced = torch.softmax(z, -1)
    shifted = balanced * priors / (balanced * priors).sum(-1, keepdim=True)
    torch.testing.assert_close(torch.softmax(companion.logit_adjust(z, priors), -1), shifted)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_logit_adjusted_cross_entropy(reduction, gen):
    z = rand(7, 3, gen=gen).requires_grad_()
    y = randint(3, 7, gen=gen)
    priors = torch.tensor([0.5, 0.4, 0.1], dtype=torch.float64)
    got = companion.logit_adjusted_cross_entropy(z, y, priors, tau=2.0, reduction=reduction)
    want = R.logit_adjusted_cross_entropy(z.detach().numpy(), y.numpy(), priors.numpy(), tau=2.0,
                                          reduction=reduction)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)
    assert torch.autograd.gradcheck(
        lambda a: companion.logit_adjusted_cross_entropy(a, y, priors, reduction=reduction), (z,))


def test_logit_adjust_inputs_unchanged_and_errors(gen):
    z = rand(2, 3, gen=gen)
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    before = snapshot(z, p)
    companion.logit_adjust(z, p)
    assert_unchanged(before, z, p)
    with pytest.raises(ValueError, match=r"priors has shape \(2,\) but must have shape \(3,\)"):
        companion.logit_adjust(z, p[:2])
    with pytest.raises(ValueError, match="priors must be positive"):
        companion.logit_adjust(z, torch.tensor([0.0, 0.5, 0.5], dtype=torch.float64))
    with pytest.raises(TypeError, match="tau must be a real number"):
        companion.logit_adjust(z, p, tau="1")
    with pytest.raises(TypeError, match="priors must be a floating-point tensor"):
        companion.logit_adjust(z, torch.tensor([1, 1, 1]))


def test_imbalanced_blobs_counts_shapes_and_determinism():
    x, y = imbalanced_blobs(1000, [0.7, 0.2, 0.1], dim=3, seed=5)
    assert x.shape == (1000, 3) and y.dtype == torch.int64
    assert y.bincount().tolist() == [700, 200, 100]
    x2, y2 = imbalanced_blobs(1000, [0.7, 0.2, 0.1], dim=3, seed=5)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = imbalanced_blobs(1000, [0.7, 0.2, 0.1], dim=3, seed=6)
    assert not torch.equal(x, x3)
    # class means are where they were asked to be
    means = torch.tensor([[0.0], [3.0]])
    x1d, y1d = imbalanced_blobs(20000, [0.5, 0.5], dim=1, means=means, std=0.5, seed=0)
    assert abs(x1d[y1d == 1].mean().item() - 3.0) < 0.02
    assert abs(x1d[y1d == 0].std().item() - 0.5) < 0.02


@pytest.mark.parametrize("args,kwargs,exc,match", [
    ((100, [0.5, 0.6]), {}, ValueError, "priors must be positive and sum to 1"),
    ((100, [1.0]), {}, ValueError, "at least 2 class frequencies"),
    ((1, [0.5, 0.5]), {}, ValueError, "n must be an int of at least 2"),
    ((100, [0.5, 0.5]), dict(dim=0), ValueError, "dim must be a positive int"),
    ((100, [0.5, 0.5]), dict(means=[[0.0, 0.0]]), ValueError, r"means has shape \(1, 2\)"),
    ((100, [0.5, 0.5]), dict(seed=1.5), TypeError, "seed must be an int"),
    ((100, [0.5, 0.5]), dict(seed=1, generator=torch.Generator()), ValueError, "either seed or generator"),
])
def test_imbalanced_blobs_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        imbalanced_blobs(*args, **kwargs)
