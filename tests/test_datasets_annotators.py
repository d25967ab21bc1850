"""companion.datasets.annotator_confusion and annotate (Chapter 9's annotator panels)."""
from __future__ import annotations

import pytest
import torch

from companion.datasets import annotate, annotator_confusion


@pytest.mark.parametrize("kind,kw", [("symmetric", {"accuracy": 0.7}), ("flip", {"accuracy": 0.1}),
                                     ("constant", {"label": 2}), ("uniform", {})])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_confusion_rows_are_distributions(kind, kw, k):
    if kind == "constant" and kw["label"] >= k:
        kw = {"label": k - 1}
    theta = annotator_confusion(kind, k, dtype=torch.float64, **kw)
    assert theta.shape == (k, k)
    assert bool((theta >= 0).all())
    torch.testing.assert_close(theta.sum(-1), torch.ones(k, dtype=torch.float64))


def test_confusion_kinds():
    sym = annotator_confusion("symmetric", 4, accuracy=0.7, dtype=torch.float64)
    torch.testing.assert_close(sym.diagonal(), torch.full((4,), 0.7, dtype=torch.float64))
    assert abs(float(sym[0, 1]) - 0.1) < 1e-12
    flip = annotator_confusion("flip", 3, accuracy=0.0, dtype=torch.float64)
    assert flip.argmax(-1).tolist() == [1, 2, 0]  # always the next class
    lazy = annotator_confusion("constant", 3, label=1)
    assert lazy.argmax(-1).tolist() == [1, 1, 1] and float(lazy.sum()) == 3.0
    spam = annotator_confusion("uniform", 4, dtype=torch.float64)
    torch.testing.assert_close(spam, torch.full((4, 4), 0.25, dtype=torch.float64))
    assert annotator_confusion("uniform", 2).dtype == torch.get_default_dtype()


def test_annotate_follows_the_confusion_matrices():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(3, (40_000,), generator=g)
    panel = torch.stack([annotator_confusion("symmetric", 3, accuracy=0.8),
                         annotator_confusion("flip", 3, accuracy=0.2),
                         annotator_confusion("constant", 3, label=0)])
    votes = annotate(y, panel, seed=1)
    assert votes.shape == (40_000, 3) and votes.dtype == torch.long
    for a in range(3):
        counts = torch.zeros(3, 3, dtype=torch.float64)
        counts.index_put_((y, votes[:, a]), torch.ones(len(y), dtype=torch.float64),
                          accumulate=True)
        empirical = counts / counts.sum(-1, keepdim=True)
        assert (empirical - panel[a].double()).abs().max() < 0.015


def test_annotate_per_item_and_seeding():
    y = torch.randint(4, (3000,), generator=torch.Generator().manual_seed(2))
    panel = annotator_confusion("symmetric", 4, accuracy=0.9).expand(6, 4, 4).contiguous()
    votes = annotate(y, panel, per_item=2, seed=3)
    assert bool(((votes >= 0).sum(1) == 2).all())
    share = (votes >= 0).double().mean(0)  # each annotator is picked 2/6 of the time
    assert (share - 1 / 3).abs().max() < 0.04
    same = annotate(y, panel, per_item=2, generator=torch.Generator().manual_seed(3))
    assert torch.equal(votes, same)
    assert not torch.equal(votes, annotate(y, panel, per_item=2, seed=4))
    assert bool((annotate(y, panel, per_item=6, seed=0) >= 0).all())
    assert annotate(torch.zeros(0, dtype=torch.long), panel).shape == (0, 6)


def test_annotate_does_not_modify_inputs():
    y = torch.tensor([0, 1, 2, 1])
    panel = annotator_confusion("symmetric", 3, accuracy=0.5).expand(2, 3, 3).clone()
    y0, p0 = y.clone(), panel.clone()
    annotate(y, panel, per_item=1, seed=0)
    assert torch.equal(y, y0) and torch.equal(panel, p0)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: annotator_confusion("lazy", 3), ValueError, "kind must be one of"),
    (lambda: annotator_confusion("symmetric", 1, accuracy=0.5), ValueError, "num_classes"),
    (lambda: annotator_confusion("symmetric", 3), ValueError, "needs accuracy"),
    (lambda: annotator_confusion("uniform", 3, accuracy=0.5), ValueError, "takes no accuracy"),
    (lambda: annotator_confusion("constant", 3), ValueError, "needs label"),
    (lambda: annotator_confusion("flip", 3, accuracy=0.5, label=1), ValueError, "takes no label"),
    (lambda: annotator_confusion("flip", 3, accuracy=1.5), ValueError, "accuracy must be"),
    (lambda: annotator_confusion("constant", 3, label=3), ValueError, "label must be"),
    (lambda: annotate(torch.tensor([0.0]), torch.eye(2)[None]), TypeError, "y must be"),
    (lambda: annotate(torch.tensor([0]), torch.eye(2, dtype=torch.long)[None]), TypeError,
     "confusion must be a floating"),
    (lambda: annotate(torch.tensor([[0]]), torch.eye(2)[None]), ValueError, "1-D"),
    (lambda: annotate(torch.tensor([0]), torch.eye(2)), ValueError, r"\(A, K, K\)"),
    (lambda: annotate(torch.tensor([2]), torch.eye(2)[None]), ValueError, "class index"),
    (lambda: annotate(torch.tensor([0]), 0.5 * torch.eye(2)[None]), ValueError, "sum to 1"),
    (lambda: annotate(torch.tensor([0]), torch.eye(2)[None], per_item=2), ValueError,
     "per_item must be at most"),
    (lambda: annotate(torch.tensor([0]), torch.eye(2)[None], per_item=0), ValueError,
     "per_item must be an int"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
