"""The synthetic data sets of Chapters 6-8: shapes, determinism, and the property each chapter relies on."""
from __future__ import annotations

import pytest
import torch

from companion.datasets import correlated_multilabel, secondary_structure, taxonomy_blobs


def test_correlated_multilabel_shapes_and_determinism():
    x, y, m = correlated_multilabel(500, num_labels=4, dim=3, seed=1)
    assert x.shape == (500, 3) and y.shape == (500, 4) and m.shape == (500, 4)
    assert x.dtype == y.dtype == m.dtype == torch.float32
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    x2, y2, m2 = correlated_multilabel(500, num_labels=4, dim=3, seed=1)
    assert torch.equal(x, x2) and torch.equal(y, y2) and torch.equal(m, m2)
    x3, _, _ = correlated_multilabel(500, num_labels=4, dim=3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(x, x3)


def test_correlated_multilabel_marginals_and_dependence():
    _, y, m = correlated_multilabel(40_000, rho=0.6, seed=0, dtype=torch.float64)
    # the returned marginals are the label frequencies given x ...
    torch.testing.assert_close(y.mean(0), m.mean(0), atol=0.01, rtol=0)
    # ... and the labels stay positively correlated given x
    residual = torch.corrcoef((y - m).T)
    assert residual[~torch.eye(5, dtype=torch.bool)].min() > 0.1
    _, y0, m0 = correlated_multilabel(40_000, rho=0.0, seed=0, dtype=torch.float64)
    assert torch.corrcoef((y0 - m0).T)[~torch.eye(5, dtype=torch.bool)].abs().max() < 0.03


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "n must be"), ({"n": 10, "num_labels": 1}, "num_labels must be"),
    ({"n": 10, "dim": 0}, "dim must be"), ({"n": 10, "rho": 1.0}, "rho must be"),
])
def test_correlated_multilabel_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        correlated_multilabel(**kwargs)


def _runs(row):
    runs, start = [], 0
    for i in range(1, len(row) + 1):
        if i == len(row) or row[i] != row[start]:
            runs.append((row[start], i - start, start, i == len(row)))
            start = i
    return runs


def test_secondary_structure_shapes_determinism_and_segments():
    residues, states, emission = secondary_structure(40, 120, seed=3)
    assert residues.shape == states.shape == (40, 120)
    assert residues.dtype == states.dtype == torch.int64
    assert 0 <= int(residues.min()) and int(residues.max()) < 20 and set(states.unique().tolist()) == {0, 1, 2}
    torch.testing.assert_close(emission.sum(-1), torch.ones(3))
    again = secondary_structure(40, 120, seed=3)
    assert torch.equal(residues, again[0]) and torch.equal(states, again[1])
    # interior segments respect the minimum lengths: helices >= 4, strands >= 3, coils >= 2
    for row in states.tolist():
        for state, run, start, last in _runs(row):
            if start > 0 and not last:
                assert run >= (4, 3, 2)[state]
            if state != 2 and start > 0 and not last:
                assert row[start - 1] == 2     # helices and strands are flanked by coil


def test_secondary_structure_signal_controls_difficulty():
    _, _, flat = secondary_structure(2, 10, signal=0.0, seed=0)
    torch.testing.assert_close(flat, torch.full((3, 20), 0.05))


@pytest.mark.parametrize("kwargs, match", [
    ({"num_sequences": 0, "length": 10}, "num_sequences must be"),
    ({"num_sequences": 2, "length": 1}, "length must be"),
    ({"num_sequences": 2, "length": 10, "signal": -1.0}, "signal must be"),
])
def test_secondary_structure_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        secondary_structure(**kwargs)


def test_taxonomy_blobs_shapes_determinism_and_tree_geometry():
    from companion import Tree

    tree = Tree.from_paths({"cat": ["mammal", "feline", "cat"], "lion": ["mammal", "feline", "lion"],
                            "dog": ["mammal", "canine", "dog"], "eagle": ["bird", "eagle"]})
    x, y = taxonomy_blobs(tree, 400, dim=6, spread=3.0, decay=0.1, std=0.05, seed=2,
                          dtype=torch.float64)
    assert x.shape == (1600, 6) and y.bincount().tolist() == [400] * 4
    x2, y2 = taxonomy_blobs(tree, 400, dim=6, spread=3.0, decay=0.1, std=0.05, seed=2,
                            dtype=torch.float64)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    centre = torch.stack([x[y == k].mean(0) for k in range(4)])
    dist = torch.cdist(centre, centre)
    # siblings (cat, lion) are closer than cousins (cat, dog), these closer than cat and eagle
    assert dist[0, 1] < dist[0, 2] < dist[0, 3]


def test_taxonomy_blobs_rejects_bad_arguments():
    from companion import Tree

    with pytest.raises(ValueError, match="n_per_leaf must be"):
        taxonomy_blobs(Tree([-1, 0, 0]), 0)
    with pytest.raises(ValueError, match="decay must be"):
        taxonomy_blobs(Tree([-1, 0, 0]), 3, decay=-1.0)
