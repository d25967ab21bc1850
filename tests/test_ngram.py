"""Tests for companion.ngram.NGramLM (interpolated absolute discounting)."""
import math
from collections import Counter

import numpy as np
import pytest
import torch

from companion.ngram import NGramLM


def _reference(order, v, d, train, history):
    """Direct recursion of the docstring's formula for one context (a tuple)."""
    def counts(k):
        c = Counter()
        for i in range(k, len(train)):
            c[(tuple(train[i - k:i]), train[i])] += 1
        return c

    tables = [counts(k) for k in range(order)]

    def q(k, h, w):
        tab = tables[k]
        follow = {ww: c for (hh, ww), c in tab.items() if hh == h}
        lower = 1.0 / v if k == 0 else q(k - 1, h[1:], w)
        if not follow:
            return lower
        tot = sum(follow.values())
        return max(follow.get(w, 0) - d, 0) / tot + d * len(follow) / tot * lower

    k = min(order - 1, len(history))
    h = tuple(history[len(history) - k:]) if k else ()
    return np.array([q(k, h, w) for w in range(v)])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_reference_and_rows_sum_to_one(order):
    g = np.random.default_rng(order)
    v = 6
    train = g.integers(0, v, 200).tolist()
    test = g.integers(0, v, 30).tolist()
    lm = NGramLM(order, v, discount=0.6).fit(train)
    logp = lm.log_probs(test)
    assert logp.shape == (30, v) and logp.dtype == torch.float64
    np.testing.assert_allclose(logp.exp().sum(1).numpy(), 1.0, atol=1e-12)
    for i in range(len(test)):
        ref = _reference(order, v, 0.6, train, test[:i])
        np.testing.assert_allclose(logp[i].exp().numpy(), ref, rtol=1e-12)


def test_unseen_tokens_get_positive_probability():
    lm = NGramLM(3, 10).fit([0, 1, 2, 0, 1, 2])
    logp = lm.log_probs([7, 8, 9])
    assert torch.isfinite(logp).all()


def test_more_data_from_a_markov_chain_lowers_the_cross_entropy():
    g = np.random.default_rng(0)
    trans = np.array([[0.9, 0.1], [0.2, 0.8]])
    x = [0]
    for _ in range(4000):
        x.append(int(g.random() > trans[x[-1], 0]))
    test = torch.tensor(x[3000:])
    ce = {n: torch.nn.functional.nll_loss(NGramLM(n, 2).fit(x[:3000]).log_probs(test),
                                          test).item() for n in (1, 2)}
    assert ce[2] < ce[1] - 0.1
    # the true conditional entropy rate of the chain is a floor (up to sampling noise)
    pi0 = 0.2 / 0.3
    rate = -sum(p * t * math.log(t) for p, row in zip((pi0, 1 - pi0), trans) for t in row)
    assert ce[2] > rate - 0.05


def test_inputs_unchanged_and_tensor_ids():
    train = torch.tensor([0, 1, 1, 0])
    before = train.clone()
    NGramLM(2, 2).fit(train).log_probs(train)
    assert torch.equal(train, before)


def test_errors():
    with pytest.raises(ValueError, match="order must be an int >= 1"):
        NGramLM(0, 3)
    with pytest.raises(ValueError, match="discount must be a number in"):
        NGramLM(2, 3, discount=1.0)
    with pytest.raises(ValueError, match="token id 5 but the vocabulary has 3"):
        NGramLM(2, 3).fit([0, 5])
    with pytest.raises(TypeError, match="integer token ids"):
        NGramLM(2, 3).fit(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="at least one token"):
        NGramLM(2, 3).fit([])
    with pytest.raises(RuntimeError, match="call fit"):
        NGramLM(2, 3).log_probs([0])
    with pytest.raises(ValueError, match="below 2\\*\\*62"):
        NGramLM(6, 100_000)
