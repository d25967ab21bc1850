"""Viterbi decoding and the majority filter (companion.decoding)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.decoding import majority_filter, viterbi_decode
from companion.reference import _decoding as R


def _rand(*shape, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_viterbi_matches_reference(dtype):
    e, a, pi = _rand(4, 3, 12, 5, dtype=dtype), _rand(5, 5, seed=1, dtype=dtype), \
        _rand(5, seed=2, dtype=dtype)
    path, score = viterbi_decode(e, a, pi)
    ref_path, ref_score = R.viterbi_decode(e.double().numpy(), a.double().numpy(),
                                           pi.double().numpy())
    assert path.dtype == torch.int64 and path.shape == (4, 3, 12)
    np.testing.assert_array_equal(path.numpy(), ref_path)
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    np.testing.assert_allclose(score.double().numpy(), ref_score, rtol=tol, atol=tol)


@pytest.mark.parametrize("length", [1, 2, 5])
def test_viterbi_is_the_exhaustive_maximum(length):
    for seed in range(5):
        e, a = _rand(length, 3, seed=seed), _rand(3, 3, seed=seed + 10)
        pi = _rand(3, seed=seed + 20)
        _, score = viterbi_decode(e, a, pi)
        best = R.brute_force_best_score(e.numpy(), a.numpy(), pi.numpy())
        assert abs(score.item() - best) < 1e-10


def test_viterbi_batched_transitions_and_forbidden_moves():
    e = _rand(2, 6, 3)
    a = torch.zeros(2, 3, 3)
    a[1, 0, 1] = a[1, 1, 0] = -float("inf")            # sequence 1 may not switch 0 <-> 1
    path, score = viterbi_decode(e, a)
    ref_path, ref_score = R.viterbi_decode(e.numpy(), a.numpy())
    np.testing.assert_array_equal(path.numpy(), ref_path)
    moves = list(zip(path[1, :-1].tolist(), path[1, 1:].tolist()))
    assert (0, 1) not in moves and (1, 0) not in moves and torch.isfinite(score).all()


def test_viterbi_strong_self_transitions_smooth():
    e = torch.log(torch.tensor([[0.6, 0.4]] * 3 + [[0.4, 0.6]] + [[0.6, 0.4]] * 3))
    stay = torch.log(torch.tensor([[0.9, 0.1], [0.1, 0.9]]))
    assert viterbi_decode(e, stay)[0].tolist() == [0] * 7
    assert viterbi_decode(e, torch.zeros(2, 2))[0].tolist() == [0, 0, 0, 1, 0, 0, 0]


def test_viterbi_half_score_gradient_and_inputs_unchanged():
    e = _rand(2, 5, 3, dtype=torch.float16)
    a = _rand(3, 3, seed=3, dtype=torch.float16)
    e0, a0 = e.clone(), a.clone()
    path, score = viterbi_decode(e, a)
    assert score.dtype == torch.float32
    assert torch.equal(e, e0) and torch.equal(a, a0)
    e64 = _rand(2, 5, 3).requires_grad_()
    _, s = viterbi_decode(e64, _rand(3, 3, seed=3))
    s.sum().backward()
    # the score's gradient w.r.t. the emissions is the one-hot path
    path64 = viterbi_decode(e64.detach(), _rand(3, 3, seed=3))[0]
    torch.testing.assert_close(e64.grad, torch.nn.functional.one_hot(path64, 3).double())


@pytest.mark.parametrize("bad, match", [
    (dict(emissions=torch.zeros(3)), "emissions must be"),
    (dict(emissions=torch.zeros(0, 3)), "L >= 1"),
    (dict(transitions=torch.zeros(2, 2)), "transitions must be"),
    (dict(initial=torch.zeros(4)), "initial must be"),
    (dict(emissions=torch.full((2, 3), float("nan"))), "NaN"),
    (dict(transitions=torch.full((3, 3), float("inf"))), "NaN or \\+inf"),
])
def test_viterbi_errors(bad, match):
    args = dict(emissions=torch.zeros(2, 3), transitions=torch.zeros(3, 3), initial=None)
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        viterbi_decode(**args)
    with pytest.raises(TypeError, match="emissions"):
        viterbi_decode(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 3))


def test_majority_filter_matches_reference():
    g = torch.Generator().manual_seed(5)
    labels = torch.randint(0, 3, (4, 40), generator=g)
    for width in [1, 3, 5, 7]:
        out = majority_filter(labels, width, 3)
        np.testing.assert_array_equal(out.numpy(), R.majority_filter(labels.numpy(), width, 3))


def test_majority_filter_examples_and_inputs_unchanged():
    labels = torch.tensor([2, 2, 0, 2, 2, 1, 1, 1])
    before = labels.clone()
    assert majority_filter(labels, 3, 3).tolist() == [2, 2, 2, 2, 2, 1, 1, 1]
    assert torch.equal(labels, before)
    # a tie keeps the centre label
    assert majority_filter(torch.tensor([0, 0, 1, 1, 2]), 5, 3).tolist()[2] == 1
    assert majority_filter(torch.zeros(0, 5, dtype=torch.long), 3, 3).shape == (0, 5)


@pytest.mark.parametrize("args, err, match", [
    ((torch.zeros(4), 3, 3), TypeError, "labels"),
    ((torch.zeros(4, dtype=torch.long), 2, 3), ValueError, "width"),
    ((torch.zeros(4, dtype=torch.long), 3, 0), ValueError, "num_classes"),
    ((torch.tensor([0, 3]), 3, 3), ValueError, "labels must lie"),
])
def test_majority_filter_errors(args, err, match):
    with pytest.raises(err, match=match):
        majority_filter(*args)
