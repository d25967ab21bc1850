"""Tests for companion.datasets.two_task_data (Chapter 14)."""
import pytest
import torch

from companion.datasets._multitask import two_task_data


def test_shapes_and_clean_labels():
    d = two_task_data(2000, seed=1)
    x = d["x"]
    assert x.shape == (2000, 6) and d["y_labels"].shape == (2000, 3)
    assert torch.equal(d["y_class"], d["y_class_clean"])
    assert torch.equal(d["y_class"], (x[:, 0] + x[:, 1] > 0).long() + 2 * (x[:, 2] > 0).long())
    assert torch.equal(d["y_labels"][:, 1], (x[:, 2] > 0).float())
    # four balanced classes
    counts = torch.bincount(d["y_class"], minlength=4)
    assert counts.min() > 400


@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_noise_rates(rate):
    d = two_task_data(20000, noise_class=rate, noise_labels=rate, seed=2)
    flipped = (d["y_labels"] != d["y_labels_clean"]).float().mean().item()
    changed = (d["y_class"] != d["y_class_clean"]).float().mean().item()
    assert abs(flipped - rate) < 0.01
    assert abs(changed - 0.75 * rate) < 0.01    # a replacement keeps the class 1 time in 4


def test_seeded():
    a, b = two_task_data(10, seed=3), two_task_data(10, seed=3)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kw, msg", [({"n": 0}, "n must be"), ({"n": 5, "dim": 3}, "dim must be"),
                                     ({"n": 5, "noise_class": 1.5}, "noise_class must be"),
                                     ({"n": 5, "noise_labels": -0.1}, "noise_labels must be")])
def test_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        two_task_data(**kw)
