"""Majority vote and Dawid-Skene EM (companion.crowd)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import companion
from companion import reference as R
from companion.datasets import simulated_annotators

from conftest import DEVICES, assert_unchanged, snapshot

ACCURACIES = (0.92, 0.85, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35)


@pytest.fixture(scope="module")
def crowd():
    return simulated_annotators(1000, num_classes=3, accuracies=ACCURACIES, coverage=0.7, seed=11)


@pytest.mark.parametrize("device", DEVICES)
def test_majority_vote_matches_reference(device, crowd):
    votes = crowd[2][:157].to(device)
    got = companion.majority_vote(votes, 3, dtype=torch.float64)
    assert got.device.type == device
    np.testing.assert_allclose(got.cpu().numpy(), R.majority_vote(votes.cpu().numpy(), 3), rtol=1e-12)
    unlabelled = companion.majority_vote(torch.full((2, 4), -1), 5)
    torch.testing.assert_close(unlabelled, torch.full((2, 5), 0.2))


@pytest.mark.parametrize("device", DEVICES)
def test_dawid_skene_matches_loop_reference(device, crowd):
    """The vectorised EM and the explicit-loop reference agree at every output."""
    votes = crowd[2][:203]
    got = companion.dawid_skene(votes.to(device), 3, dtype=torch.float64)
    want = R.dawid_skene(votes.numpy(), 3)
    assert got.n_iter == want["n_iter"]
    np.testing.assert_allclose(got.posteriors.cpu().numpy(), want["posteriors"], atol=1e-10)
    np.testing.assert_allclose(got.confusion.cpu().numpy(), want["confusion"], atol=1e-10)
    np.testing.assert_allclose(got.priors.cpu().numpy(), want["priors"], atol=1e-12)
    assert got.log_likelihood == pytest.approx(want["log_likelihood"], rel=1e-10)


@pytest.mark.parametrize("smoothing", [0.0, 1.0])
def test_dawid_skene_smoothing_matches_reference(smoothing):
    votes = torch.tensor([[0, 1, -1, 2], [1, 1, 1, -1], [2, -1, 2, 2], [0, 0, 1, 0], [-1, 2, 2, 1],
                          [1, 0, 1, 1], [-1, -1, -1, -1]])
    got = companion.dawid_skene(votes, 3, smoothing=smoothing, max_iter=30, dtype=torch.float64)
    want = R.dawid_skene(votes.numpy(), 3, smoothing=smoothing, max_iter=30)
    np.testing.assert_allclose(got.posteriors.numpy(), want["posteriors"], atol=1e-9)
    assert bool(torch.isfinite(got.posteriors).all())
    # an unlabelled item gets the prior
    torch.testing.assert_close(got.posteriors[-1], got.priors)


def test_dawid_skene_recovers_annotators_and_beats_majority(crowd):
    x, y, votes, theta = crowd
    result = companion.dawid_skene(votes, 3)
    assert result.converged and result.n_iter < 50
    assert result.posteriors.shape == (1000, 3) and result.confusion.shape == (10, 3, 3)
    torch.testing.assert_close(result.posteriors.sum(-1), torch.ones(1000))
    torch.testing.assert_close(result.confusion.sum(-1), torch.ones(10, 3))
    ds_acc = (result.posteriors.argmax(-1) == y).float().mean()
    mv_acc = (companion.majority_vote(votes, 3).argmax(-1) == y).float().mean()
    assert ds_acc > mv_acc + 0.03
    # estimated reliabilities track the true ones
    est = torch.diagonal(result.confusion, dim1=1, dim2=2).mean(-1)
    assert (est - torch.tensor(ACCURACIES)).abs().max() < 0.08
    assert (result.priors - y.bincount(minlength=3) / 1000).abs().max() < 0.03


def test_dawid_skene_log_likelihood_never_decreases(crowd):
    votes = crowd[2][:300]
    lls = [companion.dawid_skene(votes, 3, max_iter=i, tol=0.0).log_likelihood for i in range(1, 12)]
    assert all(b >= a - 1e-9 for a, b in zip(lls, lls[1:]))
    capped = companion.dawid_skene(votes, 3, max_iter=2, tol=0.0)
    assert capped.n_iter == 2 and not capped.converged


def test_crowd_inputs_unchanged(crowd):
    votes = crowd[2][:50]
    before = snapshot(votes)
    companion.dawid_skene(votes, 3)
    companion.majority_vote(votes, 3)
    assert_unchanged(before, votes)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: companion.majority_vote([[0, 1]], 2), TypeError, "annotations must be a torch.Tensor"),
    (lambda: companion.majority_vote(torch.zeros(2, 2), 2), TypeError, "annotations must be an integer tensor"),
    (lambda: companion.majority_vote(torch.zeros(2, dtype=torch.long), 2), ValueError,
     r"annotations must have shape \(N, A\)"),
    (lambda: companion.majority_vote(torch.tensor([[0, 3]]), 3), ValueError,
     "annotations has class index 3 but num_classes is 3"),
    (lambda: companion.majority_vote(torch.tensor([[0, -2]]), 3), ValueError, "annotations has entry -2"),
    (lambda: companion.majority_vote(torch.tensor([[0]]), 1), ValueError, "num_classes must be an int >= 2"),
    (lambda: companion.dawid_skene(torch.tensor([[0, 1]]), 2, max_iter=0), ValueError, "max_iter must be an int >= 1"),
    (lambda: companion.dawid_skene(torch.tensor([[0, 1]]), 2, tol=-1.0), ValueError, "tol must be >= 0"),
    (lambda: companion.dawid_skene(torch.tensor([[0, 1]]), 2, smoothing=-1.0), ValueError, "smoothing must be >= 0"),
    (lambda: companion.dawid_skene(torch.tensor([[0, 5]]), 2), ValueError, "annotations has class index 5"),
])
def test_crowd_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
