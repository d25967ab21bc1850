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


# ------------------------------------------------ long form, O(nnz K) EM, defaults (issue 14)

def _long(votes):
    i, a = (votes >= 0).nonzero().unbind(1)
    return i, a, votes[i, a]


def test_long_form_equals_dense_form_and_reference(crowd):
    votes = crowd[2][:311]
    dense = companion.dawid_skene(votes, 3, dtype=torch.float64)
    i, a, lab = _long(votes)
    perm = torch.randperm(i.numel(), generator=torch.Generator().manual_seed(0))
    long = companion.dawid_skene(items=i[perm], annotators=a[perm], labels=lab[perm],
                                 num_classes=3, num_items=votes.shape[0],
                                 num_annotators=votes.shape[1], dtype=torch.float64)
    torch.testing.assert_close(long.posteriors, dense.posteriors, atol=1e-10, rtol=0)
    torch.testing.assert_close(long.confusion, dense.confusion, atol=1e-10, rtol=0)
    assert long.n_iter == dense.n_iter
    want = R.dawid_skene(items=i.numpy(), annotators=a.numpy(), labels=lab.numpy(),
                         num_classes=3, num_items=votes.shape[0],
                         num_annotators=votes.shape[1])
    np.testing.assert_allclose(long.posteriors.numpy(), want["posteriors"], atol=1e-10)


def test_trace_is_monotone_under_maximum_likelihood(crowd):
    result = companion.dawid_skene(crowd[2], 3, tol=0.0, max_iter=40)
    trace = np.array(result.log_likelihood_trace)
    assert len(trace) == result.n_iter == 40
    assert np.all(np.diff(trace) >= -1e-9 * np.abs(trace[1:]))
    assert trace[-1] > trace[0] and result.log_likelihood == trace[-1]


def test_default_does_not_swamp_many_sparse_annotators():
    """30,000 annotators with one label each: the ML posteriors stay at the vote fractions."""
    m = 30_000
    items = torch.zeros(m, dtype=torch.long)
    labels = (torch.arange(m) % 3 != 0).long()      # one third say 0, two thirds say 1
    result = companion.dawid_skene(items=items, annotators=torch.arange(m), labels=labels,
                                   num_classes=2, dtype=torch.float64)
    torch.testing.assert_close(result.priors, torch.tensor([1 / 3, 2 / 3], dtype=torch.float64),
                               atol=1e-6, rtol=0)
    smoothed = companion.dawid_skene(items=items, annotators=torch.arange(m), labels=labels,
                                     num_classes=2, smoothing=0.01, dtype=torch.float64)
    assert abs(float(smoothed.priors[0]) - 1 / 3) > 0.1   # the pseudo-count swamps it


def test_zero_items_and_all_missing_give_no_nan():
    empty = companion.dawid_skene(torch.zeros(0, 4, dtype=torch.long), 3)
    assert empty.posteriors.shape == (0, 3) and empty.log_likelihood == 0.0
    assert bool(torch.isfinite(empty.priors).all())
    none = torch.empty(0, dtype=torch.long)
    long_empty = companion.dawid_skene(items=none, annotators=none, labels=none, num_classes=2)
    assert long_empty.posteriors.shape == (0, 2)
    unlabelled = companion.dawid_skene(torch.full((3, 2), -1), 2)
    assert bool(torch.isfinite(unlabelled.posteriors).all())
    # an annotator who contradicts the rest everywhere: log 0 is floored, nothing is NaN
    votes = torch.tensor([[0, 0, 1], [1, 1, 0], [0, 0, 1]])
    assert bool(torch.isfinite(companion.dawid_skene(votes, 2).posteriors).all())


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(annotations=torch.zeros(2, 2, dtype=torch.long), items=torch.zeros(1)), ValueError,
     "either as the dense"),
    (dict(items=torch.tensor([0])), ValueError, "needs all three"),
    (dict(items=torch.tensor([0.0]), annotators=torch.tensor([0]), labels=torch.tensor([0])),
     TypeError, "items must be an integer tensor"),
    (dict(items=torch.tensor([0, 1]), annotators=torch.tensor([0]), labels=torch.tensor([0])),
     ValueError, "same length"),
    (dict(items=torch.tensor([0]), annotators=torch.tensor([0]), labels=torch.tensor([3])),
     ValueError, "labels has class index 3"),
    (dict(items=torch.tensor([-1]), annotators=torch.tensor([0]), labels=torch.tensor([0])),
     ValueError, "items has negative index"),
    (dict(items=torch.tensor([5]), annotators=torch.tensor([0]), labels=torch.tensor([0]),
          num_items=3), ValueError, "items has index 5 but num_items is 3"),
    (dict(items=torch.tensor([[0]]), annotators=torch.tensor([[0]]), labels=torch.tensor([[0]])),
     ValueError, "items must be 1-D"),
])
def test_long_form_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        companion.dawid_skene(num_classes=3, **kwargs)
