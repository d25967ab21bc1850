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


def test_missing_multilabel_has_biased_missingness():
    x, y, mask, m = D.missing_multilabel(20000, base_missing=0.2, biased_missing=0.7, seed=0)
    assert x.shape == (20000, 4) and y.shape == mask.shape == m.shape == (20000, 2)
    both = (y[:, 0] == 1) & (y[:, 1] == 1)
    only_a = (y[:, 0] == 1) & (y[:, 1] == 0)
    assert abs(1 - mask[both, 0].float().mean().item() - 0.7) < 0.02
    assert abs(1 - mask[only_a, 0].float().mean().item() - 0.2) < 0.02
    assert abs(1 - mask[:, 1].float().mean().item() - 0.2) < 0.02
    # labels follow their true probabilities, and A and B are independent given x
    assert abs(y.mean(0) - m.mean(0)).max() < 0.02
    assert bool(((y == 0) | (y == 1)).all())
    a, b = D.missing_multilabel(30, seed=3), D.missing_multilabel(30, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    with pytest.raises(ValueError, match=r"biased_missing must be a number in \[0, 1\)"):
        D.missing_multilabel(10, biased_missing=1.0)
    with pytest.raises(ValueError, match="dim must be an int >= 2"):
        D.missing_multilabel(10, dim=1)


def test_corridor_expert_and_cloning_gap():
    env = D.Corridor(width=15, tube=2, slip=0.1)
    states, actions = env.expert_data(50, 30, seed=0)
    assert states.shape == actions.shape == (1500,)
    torch.testing.assert_close(actions, env.expert_action(states))
    assert env.features(states).shape == (1500, 15)
    # without slips the expert never leaves the tube; a policy that always goes right does
    clean = D.Corridor(width=15, tube=2)
    assert clean.rollout(clean.expert_action, 20, 40, seed=1).sum().item() == 0.0
    right = clean.rollout(lambda s: torch.full_like(s, 2), 20, 40, seed=1)
    assert right.shape == (20, 40) and right[:, -1].eq(1).all()
    # seeded: the same generator state gives the same rollouts
    pol = lambda s: torch.where(s % 3 == 0, torch.full_like(s, 0), env.expert_action(s))
    assert torch.equal(env.rollout(pol, 5, 10, seed=2), env.rollout(pol, 5, 10, generator=torch.Generator().manual_seed(2)))
    assert "width=15" in repr(env)
    with pytest.raises(ValueError, match="width must be an int >= 3"):
        D.Corridor(width=2)
    with pytest.raises(ValueError, match=r"tube must be an int in \[0, 7\)"):
        D.Corridor(width=15, tube=7)
    with pytest.raises(ValueError, match=r"slip must be a number in \[0, 1\]"):
        D.Corridor(slip=2)
    with pytest.raises(ValueError, match="horizon must be an int >= 1"):
        env.rollout(pol, 3, 0)
    with pytest.raises(TypeError, match="policy must be callable"):
        env.rollout(3, 3, 3)
    with pytest.raises(ValueError, match="policy must return one action per state"):
        env.rollout(lambda s: torch.zeros(2, dtype=torch.long), 3, 3)


def test_tiny_corpus_is_seeded_text_with_skewed_word_counts():
    text = D.tiny_corpus(400, seed=0)
    assert text == D.tiny_corpus(400, generator=torch.Generator().manual_seed(0))
    assert text != D.tiny_corpus(400, seed=1)
    lines = text.splitlines()
    assert len(lines) == 400 and all(line.endswith(" .") for line in lines)
    words = text.split()
    counts = sorted((words.count(w) for w in set(words)), reverse=True)
    assert counts[0] > 10 * counts[-1]  # frequent function words, a long tail
    assert set(text) <= set("abcdefghijklmnopqrstuvwxyz .\n")
    with pytest.raises(ValueError, match="n_sentences must be an int >= 1"):
        D.tiny_corpus(0)


def test_mixed_table_layout_matches_the_loss():
    import companion
    batch, spec, u = D.mixed_table(800, num_binary=2, num_continuous=3, categories=(3, 2, 4), seed=0)
    assert batch.shape == (800, 2 + 3 + 3 + 2 + 4) and u.shape == (800, 2)
    assert spec == {"binary": [0, 1], "continuous": [2, 3, 4], "categorical": [[5, 6, 7], [8, 9], [10, 11, 12, 13]]}
    assert bool(((batch[:, :2] == 0) | (batch[:, :2] == 1)).all())
    for group in spec["categorical"]:
        assert torch.equal(batch[:, group].sum(1), torch.ones(800))
    # the columns depend on the latent: the continuous ones are linear in it up to the noise
    coef = torch.linalg.lstsq(u.double(), batch[:, 2:5].double()).solution
    resid = batch[:, 2:5].double() - u.double() @ coef
    assert resid.std().item() < 0.35
    losses = companion.mixed_reconstruction_loss(torch.zeros_like(batch), batch, spec)
    assert torch.isfinite(losses["total"])
    again = D.mixed_table(20, generator=torch.Generator().manual_seed(5))
    assert torch.equal(again[0], D.mixed_table(20, seed=5)[0])
    with pytest.raises(ValueError, match="categories must list ints >= 2"):
        D.mixed_table(10, categories=(1,))
    with pytest.raises(ValueError, match="noise must be a number >= 0"):
        D.mixed_table(10, noise=-1)


@pytest.mark.parametrize("kind", ["far", "near"])
def test_ood_split(kind):
    data = D.ood_split(600, 300, 200, num_classes=4, dim=3, kind=kind, seed=0)
    assert data["x_train"].shape == (600, 3) and data["y_test"].shape == (300,) and data["x_ood"].shape == (200, 3)
    assert set(data["y_train"].unique().tolist()) == {0, 1, 2, 3}
    r_in = data["x_test"][:, :2].norm(dim=1).mean().item()
    r_out = data["x_ood"][:, :2].norm(dim=1).mean().item()
    assert (r_out > 2 * r_in) if kind == "far" else (r_out < 0.5 * r_in)
    again = D.ood_split(10, 10, 10, kind=kind, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again["x_ood"], D.ood_split(10, 10, 10, kind=kind, seed=1)["x_ood"])


def test_ood_split_errors():
    with pytest.raises(ValueError, match="kind must be 'far' or 'near'"):
        D.ood_split(10, 10, 10, kind="mid")
    with pytest.raises(ValueError, match="n_ood must be an int >= 1"):
        D.ood_split(10, 10, 0)
    with pytest.raises(ValueError, match="num_classes must be an int >= 2"):
        D.ood_split(10, 10, 10, num_classes=1)
