"""Seeded synthetic generators in companion.datasets (shapes, seeding, properties, errors)."""
from __future__ import annotations

import pytest
import torch

from companion import datasets as D


def test_two_moons_shapes_seeding_and_geometry():
    x, y = D.two_moons(301, noise=0.0, seed=3)
    assert x.shape == (301, 2) and y.shape == (301,) and y.dtype == torch.long
    assert y.bincount().tolist() == [151, 150]
    # without noise, class 0 lies on the unit circle and class 1 on the shifted one
    r0 = x[y == 0].double().norm(dim=1)
    r1 = (x[y == 1].double() - torch.tensor([1.0, 0.5], dtype=torch.float64)).norm(dim=1)
    torch.testing.assert_close(r0, torch.ones_like(r0), atol=1e-6, rtol=0)
    torch.testing.assert_close(r1, torch.ones_like(r1), atol=1e-6, rtol=0)
    a, b = D.two_moons(50, seed=1), D.two_moons(50, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(D.two_moons(50, seed=2)[0], a[0])
    assert D.two_moons(10, dtype=torch.float64)[0].dtype == torch.float64


def test_ordinal_data_ranks_follow_the_score():
    x, y, s = D.ordinal_data(4000, num_classes=5, dim=3, noise=0.3, seed=0)
    assert x.shape == (4000, 3) and y.shape == (4000,) and s.shape == (4000,)
    counts = y.bincount(minlength=5).double() / 4000
    assert (counts - 0.2).abs().max() < 0.03  # thresholds at the latent quantiles
    means = torch.stack([s[y == k].mean() for k in range(5)])
    assert bool((means.diff() > 0).all())  # ranks are ordered by the latent score
    # noise-free: the rank is a deterministic step function of the score
    _, y0, s0 = D.ordinal_data(500, noise=0.0, seed=1)
    order = s0.argsort()
    assert bool((y0[order].diff() >= 0).all())
    a, b = D.ordinal_data(20, seed=4), D.ordinal_data(20, generator=torch.Generator().manual_seed(4))
    assert all(torch.equal(u, v) for u, v in zip(a, b))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: D.two_moons(1), ValueError, "n must be an int >= 2"),
    (lambda: D.two_moons(10, noise=-1), ValueError, "noise must be a number >= 0"),
    (lambda: D.two_moons(10, seed=1.5), TypeError, "seed must be an int"),
    (lambda: D.two_moons(10, seed=1, generator=torch.Generator()), ValueError, "either seed or generator"),
    (lambda: D.ordinal_data(0), ValueError, "n must be an int >= 1"),
    (lambda: D.ordinal_data(10, num_classes=1), ValueError, "num_classes must be an int >= 2"),
    (lambda: D.ordinal_data(10, dim=0), ValueError, "dim must be an int >= 1"),
    (lambda: D.ordinal_data(10, noise=-0.1), ValueError, "noise must be a number >= 0"),
])
def test_generator_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_simulated_annotators_follow_their_confusion_matrices():
    x, y, votes, theta = D.simulated_annotators(4000, num_classes=3, accuracies=(0.9, 0.6, 0.3),
                                                coverage=0.8, seed=2)
    assert x.shape == (4000, 2) and votes.shape == (4000, 3) and theta.shape == (3, 3, 3)
    assert bool(((votes >= 0).sum(1) >= 1).all())
    assert abs((votes >= 0).float().mean().item() - 0.8) < 0.03
    for a, acc in enumerate((0.9, 0.6, 0.3)):
        seen = votes[:, a] >= 0
        assert abs((votes[seen, a] == y[seen]).float().mean().item() - acc) < 0.03
    torch.testing.assert_close(theta.sum(-1), torch.ones(3, 3))
    again = D.simulated_annotators(50, generator=torch.Generator().manual_seed(9))
    assert all(torch.equal(u, v) for u, v in zip(again, D.simulated_annotators(50, seed=9)))
    with pytest.raises(ValueError, match="accuracies must be a non-empty 1-D sequence"):
        D.simulated_annotators(10, accuracies=(1.2,))
    with pytest.raises(ValueError, match=r"coverage must be a number in \(0, 1\]"):
        D.simulated_annotators(10, coverage=0.0)
    with pytest.raises(ValueError, match="num_classes must be an int >= 2"):
        D.simulated_annotators(10, num_classes=1)
