"""Log score, Brier score, code lengths, calibration and cost-based decisions (companion.scoring)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import companion
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, randint, snapshot

SCORES = ["log_score", "brier_score", "code_length_bits"]


def _np(t):
    return t.detach().double().cpu().numpy()


@pytest.mark.parametrize("name", SCORES)
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_scores_match_reference(name, soft, dtype, atol, rtol, device, gen):
    q = torch.softmax(rand(3, 19, 5, gen=gen, scale=2.0), -1).to(dtype).to(device)
    if soft:
        t = torch.softmax(rand(3, 19, 5, gen=gen), -1).to(dtype).to(device)
        t_np = _np(t)
    else:
        t = randint(5, 3, 19, gen=gen, device=device)
        t_np = t.cpu().numpy()
    got = getattr(companion, name)(q, t)
    assert got.dtype == dtype and got.shape == (3, 19)
    want = getattr(R, name)(_np(q), t_np)
    np.testing.assert_allclose(_np(got), want, atol=atol * 10, rtol=rtol * 2)


def test_scores_identities(gen):
    q = torch.softmax(rand(50, 4, gen=gen), -1)
    y = randint(4, 50, gen=gen)
    z = torch.log(q)
    # the log score is minus the cross-entropy, the code length is it in bits
    torch.testing.assert_close(-companion.log_score(q, y).mean(), companion.cross_entropy(z, y))
    torch.testing.assert_close(companion.code_length_bits(q, y), -companion.log_score(q, y) / math.log(2))
    # one-hot soft targets give the hard-target scores
    onehot = torch.nn.functional.one_hot(y, 4).double()
    for name in SCORES:
        torch.testing.assert_close(getattr(companion, name)(q, onehot), getattr(companion, name)(q, y))
    # the expected Brier score under p is ||q - p||^2 + 1 - ||p||^2
    p = torch.softmax(rand(50, 4, gen=gen), -1)
    torch.testing.assert_close(companion.brier_score(q, p), ((q - p) ** 2).sum(-1) + 1 - (p ** 2).sum(-1))


def test_log_and_brier_are_proper(gen):
    """The expected score under p is optimised by reporting q = p (and only then)."""
    p = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
    for _ in range(50):
        q = torch.softmax(rand(3, gen=gen), -1)
        assert companion.log_score(q, p) <= companion.log_score(p, p)
        assert companion.brier_score(q, p) >= companion.brier_score(p, p)


def test_scores_zero_probability_and_extremes():
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    assert companion.log_score(q, torch.tensor([1, 1]))[0].item() == -math.inf  # impossible outcome
    # a soft target that rules out a zero-probability class costs nothing there (0 log 0 = 0)
    assert companion.log_score(q, torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)).tolist() == [0.0, 0.0]
    assert companion.code_length_bits(torch.tensor([[0.5, 0.5]]), torch.tensor([0])).item() == pytest.approx(1.0)


@pytest.mark.parametrize("n_bins", [1, 7, 15])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_calibration_matches_reference(n_bins, dtype, atol, rtol, device, gen):
    q = torch.softmax(rand(503, 4, gen=gen, scale=2.0), -1)
    y = randint(4, 503, gen=gen)
    got = companion.expected_calibration_error(q.to(dtype).to(device), y.to(device), n_bins=n_bins)
    curve = companion.reliability_curve(q.to(dtype).to(device), y.to(device), n_bins=n_bins)
    # bins are decided on the rounded confidences: compare with the reference on the same inputs
    q_in = q.to(dtype).double().numpy()
    want = R.expected_calibration_error(q_in, y.numpy(), n_bins=n_bins)
    ref_curve = R.reliability_curve(q_in, y.numpy(), n_bins=n_bins)
    assert got.dtype == dtype
    np.testing.assert_allclose(_np(got), want, atol=atol * 10, rtol=rtol)
    np.testing.assert_array_equal(_np(curve["count"]), ref_curve["count"])
    for key in ("confidence", "accuracy", "edges"):
        np.testing.assert_allclose(_np(curve[key]), ref_curve[key], atol=atol * 10, rtol=rtol)


@pytest.mark.parametrize("class_index", [0, 2])
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_classwise_calibration_matches_reference(class_index, dtype, atol, rtol, gen):
    q = torch.softmax(rand(301, 3, gen=gen, scale=2.0), -1).to(dtype)
    y = randint(3, 301, gen=gen)
    q_in = q.double().numpy()
    got = companion.expected_calibration_error(q, y, n_bins=10, class_index=class_index)
    want = R.expected_calibration_error(q_in, y.numpy(), n_bins=10, class_index=class_index)
    np.testing.assert_allclose(_np(got), want, atol=atol * 10, rtol=rtol)
    curve = companion.reliability_curve(q, y, n_bins=10, class_index=class_index)
    ref = R.reliability_curve(q_in, y.numpy(), n_bins=10, class_index=class_index)
    np.testing.assert_array_equal(_np(curve["count"]), ref["count"])
    np.testing.assert_allclose(_np(curve["accuracy"]), ref["accuracy"], atol=atol * 10, rtol=rtol)


def test_classwise_calibration_sees_what_top_label_hides(gen):
    # x | y=0 ~ N(0, 1), x | y=1 ~ N(2, 1), P(y=1) = 0.1: the true posterior is p; a model
    # trained with weight 9 on the positives reports the odds multiplied by 9 (Chapter 1)
    y = (torch.rand(100000, generator=gen, dtype=torch.float64) < 0.1).long()
    x = torch.randn(100000, generator=gen, dtype=torch.float64) + 2.0 * y
    p = torch.sigmoid(2.0 * x - 2.0 + torch.log(torch.tensor(0.1 / 0.9, dtype=torch.float64)))
    q1 = 9 * p / (9 * p + 1 - p)
    q = torch.stack([1 - q1, q1], -1)
    top = companion.expected_calibration_error(q, y, n_bins=10).item()
    positive = companion.expected_calibration_error(q, y, n_bins=10, class_index=1).item()
    assert positive > 0.1 and top < 0.02   # the top-label bins cancel the two errors
    honest = torch.stack([1 - p, p], -1)
    assert companion.expected_calibration_error(honest, y, n_bins=10, class_index=1).item() < 0.01


@pytest.mark.parametrize("bad", [2, -1, 1.0, True])
def test_class_index_errors(bad):
    with pytest.raises(ValueError, match=r"class_index must be None or an int in \[0, 2\)"):
        companion.reliability_curve(torch.tensor([[0.5, 0.5]]), torch.tensor([0]), class_index=bad)


def test_calibration_properties(gen):
    # a perfectly calibrated predictor: labels drawn from its own probabilities
    q = torch.softmax(rand(20000, 3, gen=gen), -1)
    y = torch.multinomial(q, 1, generator=gen).squeeze(-1)
    assert companion.expected_calibration_error(q, y).item() < 0.02
    # always confident and always wrong: ECE = confidence
    q_bad = torch.tensor([[0.9, 0.1]] * 10)
    assert companion.expected_calibration_error(q_bad, torch.ones(10, dtype=torch.long)).item() == pytest.approx(0.9)
    curve = companion.reliability_curve(q_bad, torch.ones(10, dtype=torch.long), n_bins=10)
    assert curve["count"].sum().item() == 10 and curve["edges"].shape == (11,)
    assert companion.expected_calibration_error(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)).item() == 0.0


@pytest.mark.parametrize("device", DEVICES)
def test_bayes_decision_matches_reference(device, gen):
    q = torch.softmax(rand(5, 23, 3, gen=gen), -1).to(device)
    costs = torch.tensor([[0.0, 5.0, 1.0], [1.0, 0.0, 4.0], [2.0, 2.0, 0.0], [0.7, 0.7, 0.7]],
                         dtype=torch.float64, device=device)
    got = companion.bayes_decision(q, costs)
    assert got.dtype == torch.long and got.shape == (5, 23)
    np.testing.assert_array_equal(got.cpu().numpy(), R.bayes_decision(_np(q), costs.cpu().numpy()))
    zero_one = 1 - torch.eye(3, dtype=torch.float64, device=device)
    assert torch.equal(companion.bayes_decision(q, zero_one), q.argmax(-1))


def test_cost_threshold_is_the_binary_bayes_decision(gen):
    c_fp, c_fn = 1.0, 4.0
    t = companion.cost_threshold(c_fp, c_fn)
    assert t == R.cost_threshold(c_fp, c_fn) == 0.2 and companion.cost_threshold(3, 3) == 0.5
    p = torch.rand(1000, generator=gen, dtype=torch.float64)
    q = torch.stack([1 - p, p], -1)
    costs = torch.tensor([[0.0, c_fn], [c_fp, 0.0]], dtype=torch.float64)  # action 1 = call positive
    assert torch.equal(companion.bayes_decision(q, costs), (p > t).long())


def test_scoring_inputs_unchanged(gen):
    q = torch.softmax(rand(6, 3, gen=gen), -1)
    y = randint(3, 6, gen=gen)
    c = torch.ones(2, 3, dtype=torch.float64)
    before = snapshot(q, y, c)
    for name in SCORES:
        getattr(companion, name)(q, y)
    companion.expected_calibration_error(q, y)
    companion.reliability_curve(q, y)
    companion.bayes_decision(q, c)
    assert_unchanged(before, q, y, c)


Q = torch.tensor([[0.5, 0.5], [0.2, 0.8]])


@pytest.mark.parametrize("call,exc,match", [
    (lambda: companion.log_score(Q.long(), torch.tensor([0, 1])), TypeError, "probs must be a floating-point tensor"),
    (lambda: companion.log_score(Q * 2, torch.tensor([0, 1])), ValueError, r"probs must hold probabilities in \[0, 1\]"),
    (lambda: companion.log_score(Q, torch.tensor([0, 2])), ValueError, "target has class index 2 but probs have 2 classes"),
    (lambda: companion.brier_score(Q, torch.tensor([0])), ValueError, r"target has shape \(1,\)"),
    (lambda: companion.brier_score(Q, [0, 1]), TypeError, "target must be a torch.Tensor"),
    (lambda: companion.code_length_bits(Q, -Q), ValueError, r"target must lie in \[0, 1\]"),
    (lambda: companion.log_score(torch.tensor(0.5), torch.tensor(0)), ValueError, "probs must have the class axis last"),
    (lambda: companion.expected_calibration_error(Q, torch.tensor([0, 1]), n_bins=0), ValueError, "n_bins must be an int >= 1"),
    (lambda: companion.reliability_curve(Q, torch.tensor([0.0, 1.0])), TypeError, "target must hold integer class indices"),
    (lambda: companion.bayes_decision(Q, torch.ones(2, 3)), ValueError, r"cost_matrix has shape \(2, 3\) but must be \(A, 2\)"),
    (lambda: companion.bayes_decision(Q, torch.ones(2, 2, dtype=torch.long)), TypeError, "cost_matrix must be a floating-point tensor"),
    (lambda: companion.cost_threshold(-1.0, 1.0), ValueError, "cost_fp must be >= 0"),
    (lambda: companion.cost_threshold(0, 0), ValueError, "cost_fp and cost_fn must not both be zero"),
    (lambda: companion.cost_threshold(1.0, "a"), TypeError, "cost_fn must be a real number"),
])
def test_scoring_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
