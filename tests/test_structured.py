"""Multi-label cross-entropy, label trees and the adjacent-JS penalty (companion.structured)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion
from companion import Tree
from companion import reference as R

from conftest import DEVICES, DTYPE_TOLERANCES, assert_unchanged, rand, randint, snapshot

REDUCTIONS = ["mean", "sum", "none"]

# animal taxonomy of uneven depth: a leaf directly below the root, single-child chains, wide groups
PATHS = {
    "cat": ["animal", "mammal", "feline", "cat"],
    "lion": ["animal", "mammal", "feline", "lion"],
    "dog": ["animal", "mammal", "canine", "dog"],
    "wolf": ["animal", "mammal", "canine", "wolf"],
    "eagle": ["animal", "bird", "raptor", "eagle"],
    "robin": ["animal", "bird", "robin"],
    "trout": ["animal", "fish", "trout"],
    "oak": ["plant", "tree", "oak"],
    "rock": ["rock"],
}


@pytest.fixture
def tree():
    return Tree.from_paths(PATHS)


def _np(t):
    return t.detach().double().cpu().numpy()


# ----------------------------------------------------------------------------- multilabel

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_mask", [False, True])
def test_multilabel_matches_reference(with_mask, reduction, dtype, atol, rtol, device, gen):
    z = rand(3, 37, 7, gen=gen, scale=3.0).to(dtype).to(device)
    y = torch.rand(3, 37, 7, generator=gen, dtype=torch.float64).round().to(dtype).to(device)
    mask = (torch.rand(3, 37, 7, generator=gen) > 0.3).to(device) if with_mask else None
    pw = torch.linspace(0.5, 3.0, 7, dtype=dtype, device=device)
    got = companion.multilabel_cross_entropy(z, y, mask=mask, pos_weight=pw, reduction=reduction)
    assert got.dtype == dtype
    want = R.multilabel_cross_entropy(_np(z), _np(y), mask=None if mask is None else mask.cpu().numpy(),
                                      pos_weight=_np(pw), reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=atol * 7, rtol=rtol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_torch_peer_and_gradcheck(reduction, gen):
    z = rand(9, 5, gen=gen).requires_grad_()
    y = torch.rand(9, 5, generator=gen, dtype=torch.float64)  # soft labels
    pw = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    got = companion.multilabel_cross_entropy(z, y, pos_weight=pw, reduction=reduction)
    per_example = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction="none").sum(-1)
    peer = {"mean": per_example.mean(), "sum": per_example.sum(), "none": per_example}[reduction]
    torch.testing.assert_close(got, peer)
    mask = torch.rand(9, 5, generator=gen) > 0.4
    assert torch.autograd.gradcheck(
        lambda a: companion.multilabel_cross_entropy(a, y, mask=mask, pos_weight=pw, reduction=reduction), (z,))


def test_multilabel_all_masked_is_zero_with_zero_gradient(gen):
    z = rand(4, 3, gen=gen).requires_grad_()
    y = torch.ones(4, 3, dtype=torch.float64)
    loss = companion.multilabel_cross_entropy(z, y, mask=torch.zeros(4, 3, dtype=torch.bool))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(z.grad, torch.zeros_like(z))
    # an example with no observed label counts in neither sum of the mean
    mask = torch.tensor([[True, False, True], [False] * 3, [True] * 3, [False, True, False]])
    got = companion.multilabel_cross_entropy(z.detach(), y, mask=mask)
    want = companion.multilabel_cross_entropy(z.detach()[mask.any(-1)], y[mask.any(-1)],
                                              mask=mask[mask.any(-1)])
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_multilabel_extreme_logits_finite(dtype):
    z = torch.tensor([[1e4, -1e4, 1e4], [-1e4, 1e4, 0.0]], dtype=torch.float32).to(dtype).requires_grad_()
    y = torch.tensor([[0.0, 1.0, 1.0], [0.0, 1.0, 0.5]], dtype=dtype)
    loss = companion.multilabel_cross_entropy(z, y)
    loss.backward()
    assert torch.isfinite(loss) and bool(torch.isfinite(z.grad).all())


def test_multilabel_half_no_worse_than_naive(gen):
    z64 = rand(301, 11, gen=gen, scale=4.0)
    y = (torch.rand(301, 11, generator=gen) > 0.5).double()
    truth = R.multilabel_cross_entropy(z64.numpy(), y.numpy())
    for dtype in (torch.float16, torch.bfloat16):
        ours = companion.multilabel_cross_entropy(z64.to(dtype), y.to(dtype)).double().item()
        naive = F.binary_cross_entropy_with_logits(z64.to(dtype), y.to(dtype), reduction="none").sum(-1).mean()
        assert abs(ours - truth) <= abs(naive.double().item() - truth) + 1e-2 * abs(truth)


def test_multilabel_inputs_unchanged(gen):
    z, y = rand(5, 4, gen=gen), torch.ones(5, 4, dtype=torch.float64)
    mask, pw = torch.rand(5, 4, generator=gen) > 0.5, torch.full((4,), 2.0, dtype=torch.float64)
    before = snapshot(z, y, mask, pw)
    companion.multilabel_cross_entropy(z, y, mask=mask, pos_weight=pw)
    assert_unchanged(before, z, y, mask, pw)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(logits=torch.zeros(2, 3, dtype=torch.long)), TypeError, "logits must be a floating-point tensor"),
    (dict(targets=torch.ones(2, 3, dtype=torch.long)), TypeError, "targets must be a floating-point tensor"),
    (dict(targets=torch.ones(2, 4)), ValueError, r"targets has shape \(2, 4\) but logits has shape \(2, 3\)"),
    (dict(targets=2 * torch.ones(2, 3)), ValueError, r"targets must lie in \[0, 1\]"),
    (dict(mask=torch.ones(2, 3)), TypeError, "mask must be a boolean tensor"),
    (dict(mask=torch.ones(3, 2, dtype=torch.bool)), ValueError, r"mask has shape \(3, 2\)"),
    (dict(pos_weight=-torch.ones(3)), ValueError, "pos_weight must be non-negative"),
    (dict(pos_weight=torch.ones(4)), ValueError, r"pos_weight has shape \(4,\)"),
    (dict(pos_weight=torch.ones(3, dtype=torch.long)), TypeError, "pos_weight must be a floating-point tensor"),
    (dict(reduction="avg"), ValueError, "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
])
def test_multilabel_errors(kwargs, exc, match):
    args = dict(logits=torch.zeros(2, 3), targets=torch.ones(2, 3))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        companion.multilabel_cross_entropy(args.pop("logits"), args.pop("targets"), **args)


# ----------------------------------------------------------------------------- Tree

def test_tree_from_paths(tree):
    assert tree.num_nodes == 19
    assert [tree.names[i] for i in tree.leaves] == list(PATHS)  # leaves in the order of the keys
    assert tree.num_leaves == 9
    assert [tree.names[i] for i in tree.path(tree.index("lion"))] == ["<root>", "animal", "mammal", "feline", "lion"]
    assert tree.path(0) == [0]
    assert tree.parents[tree.index("rock")] == 0
    # a path may also omit its leaf, which the key supplies
    same = Tree.from_paths({"a": ["x"], "b": ["x", "b"]})
    assert same.parents == (-1, 0, 1, 1) and same.leaves == [2, 3]
    assert "num_leaves=9" in repr(tree)


def test_tree_from_parents_any_order():
    t = Tree([-1, 3, 3, 0, 0])  # node 3 is the parent of 1 and 2, listed after them
    assert t.leaves == [1, 2, 4] and t.path(2) == [0, 3, 2] and t.names is None
    assert t.children[0] == [3, 4] and t.depth == [0, 2, 2, 1, 1]
    assert Tree(torch.tensor([-1, 0, 0])).leaves == [1, 2]


@pytest.mark.parametrize("call,exc,match", [
    (lambda: Tree([0, 0]), ValueError, r"parents\[0\] must be -1"),
    (lambda: Tree([-1]), ValueError, "parents must list at least 2 nodes"),
    (lambda: Tree([-1, 5]), ValueError, r"parents\[1\] is 5"),
    (lambda: Tree([-1, 1]), ValueError, r"parents\[1\] is 1"),
    (lambda: Tree([-1, 2, 1]), ValueError, "parents has a cycle"),
    (lambda: Tree(["a", 0]), TypeError, "parents must be a sequence of ints"),
    (lambda: Tree([-1, 0], names=["r"]), ValueError, "names has 1 entries but the tree has 2 nodes"),
    (lambda: Tree.from_paths([["a"]]), TypeError, "paths must be a dict"),
    (lambda: Tree.from_paths({"a": "a"}), TypeError, r"paths\['a'\] must be a list of names"),
    (lambda: Tree.from_paths({"a": ["x", "a"], "b": ["y", "a"]}), ValueError, "node 'a' appears under 'x' and under 'y'"),
    (lambda: Tree.from_paths({"x": ["x"], "a": ["x", "a"]}), ValueError, "key 'x', which is an internal node"),
    (lambda: Tree.from_paths({"a": ["<root>", "a"]}), ValueError, "reserved for the root"),
    (lambda: Tree([-1, 0]).path(2), ValueError, r"node must be an int in \[0, 2\)"),
    (lambda: Tree([-1, 0]).index("a"), ValueError, "the tree has no node named 'a'"),
])
def test_tree_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------- hierarchical

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
def test_hierarchical_log_probs_match_reference(dtype, atol, rtol, device, tree, gen):
    z = rand(3, 5, tree.num_nodes - 1, gen=gen, scale=2.0).to(dtype).to(device)
    got = companion.hierarchical_log_probs(z, tree)
    assert got.dtype == dtype and got.shape == (3, 5, tree.num_leaves)
    np.testing.assert_allclose(_np(got), R.hierarchical_log_probs(_np(z), tree), atol=4 * atol, rtol=rtol)
    torch.testing.assert_close(got.double().exp().sum(-1), torch.ones(3, 5, dtype=torch.float64, device=device),
                               atol=4 * atol, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hierarchical_cross_entropy_matches_reference(reduction, dtype, atol, rtol, device, tree, gen):
    z = rand(41, tree.num_nodes - 1, gen=gen, scale=2.0).to(dtype).to(device)
    t = randint(tree.num_leaves, 41, gen=gen, device=device)
    got = companion.hierarchical_cross_entropy(z, t, tree, reduction=reduction)
    assert got.dtype == dtype
    want = R.hierarchical_cross_entropy(_np(z), t.cpu().numpy(), tree, reduction=reduction)
    np.testing.assert_allclose(_np(got), want, atol=4 * atol, rtol=rtol)


def test_flat_tree_is_plain_cross_entropy(gen):
    """A tree of depth one is a single softmax over the leaves: the torch peer applies."""
    flat = Tree([-1] + [0] * 6)
    z = rand(13, 6, gen=gen).requires_grad_()
    t = randint(6, 13, gen=gen)
    ours = companion.hierarchical_cross_entropy(z, t, flat)
    peer = F.cross_entropy(z, t)
    torch.testing.assert_close(ours, peer)
    g1, = torch.autograd.grad(ours, z)
    g2, = torch.autograd.grad(peer, z)
    torch.testing.assert_close(g1, g2)
    torch.testing.assert_close(companion.hierarchical_log_probs(z, flat), F.log_softmax(z, -1))


def test_hierarchical_groups_of_unequal_size_listed_out_of_order(gen):
    """Children listed before their parents and groups of sizes 3, 2 and 1: every node's
    conditional log-probability is read from its own slot of the padded sibling groups."""
    tree = Tree([-1, 4, 4, 0, 0, 0, 3, 3, 1])  # root: {3, 4, 5}; 4: {1, 2}; 3: {6, 7}; 1: {8}
    z = rand(5, tree.num_nodes - 1, gen=gen, scale=2.0).requires_grad_()
    t = randint(tree.num_leaves, 5, gen=gen)
    np.testing.assert_allclose(_np(companion.hierarchical_log_probs(z, tree)),
                               R.hierarchical_log_probs(_np(z), tree), atol=1e-12, rtol=1e-12)
    np.testing.assert_allclose(_np(companion.hierarchical_cross_entropy(z, t, tree, reduction="none")),
                               R.hierarchical_cross_entropy(_np(z), t.numpy(), tree, reduction="none"),
                               atol=1e-12, rtol=1e-12)
    assert torch.autograd.gradcheck(lambda a: companion.hierarchical_cross_entropy(a, t, tree), (z,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hierarchical_gradcheck(reduction, tree, gen):
    z = rand(4, tree.num_nodes - 1, gen=gen).requires_grad_()
    t = randint(tree.num_leaves, 4, gen=gen)
    assert torch.autograd.gradcheck(lambda a: companion.hierarchical_cross_entropy(a, t, tree, reduction=reduction), (z,))
    assert torch.autograd.gradcheck(lambda a: companion.hierarchical_log_probs(a, tree), (z,))


def test_only_the_true_path_receives_gradient(tree, gen):
    """On the path: softmax of the sibling group minus one-hot of the next node; elsewhere: zero."""
    z = rand(len(tree.leaves), tree.num_nodes - 1, gen=gen).requires_grad_()
    t = torch.arange(tree.num_leaves)  # one example per leaf
    companion.hierarchical_cross_entropy(z, t, tree, reduction="sum").backward()
    expected = torch.zeros_like(z)
    for n, leaf in enumerate(tree.leaves):
        path = tree.path(leaf)
        for parent, child in zip(path[:-1], path[1:]):
            cols = [c - 1 for c in tree.children[parent]]
            p = torch.softmax(z.detach()[n, cols], -1)
            expected[n, cols] = p - F.one_hot(torch.tensor(cols.index(child - 1)), len(cols)).double()
    torch.testing.assert_close(z.grad, expected)
    # groups below off-path nodes are exactly zero, not merely small (bird, canine, plant are
    # siblings on the path and do get gradient)
    cat = tree.leaves.index(tree.index("cat"))
    off = [tree.index(name) - 1 for name in ("raptor", "eagle", "robin", "trout", "dog", "wolf", "tree", "oak")]
    assert bool((z.grad[cat, off] == 0).all())


def _loss_from_leaf_log_probs(z, t, tree):
    """The loss by the other route: every leaf's log-probability, then the target's."""
    return -companion.hierarchical_log_probs(z, tree).gather(-1, t.unsqueeze(-1)).squeeze(-1)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_path_only_loss_matches_the_full_tree(dtype, tree, gen):
    # the loss reads only the sibling groups on the true path; the leaf log-probabilities
    # of hierarchical_log_probs are built from every group: same values, same gradients,
    # for (B, L) targets, a leaf directly below the root and uneven upstream gradients
    z = rand(4, 5, tree.num_nodes - 1, gen=gen, scale=3.0).to(dtype).requires_grad_()
    t = randint(tree.num_leaves, 4, 5, gen=gen)
    t[0, 0] = tree.leaves.index(tree.index("rock"))
    ours = companion.hierarchical_cross_entropy(z, t, tree, reduction="none")
    want = _loss_from_leaf_log_probs(z, t, tree)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(ours, want, atol=tol, rtol=tol)
    go = torch.linspace(-1.0, 2.0, 20, dtype=dtype).reshape(4, 5)
    g_ours, = torch.autograd.grad(ours, z, go)
    g_want, = torch.autograd.grad(want, z, go)
    torch.testing.assert_close(g_ours, g_want, atol=tol, rtol=tol)
    if dtype == torch.float64:
        assert torch.autograd.gradgradcheck(
            lambda a: companion.hierarchical_cross_entropy(a, t[:2, :2], tree),
            (z[:2, :2].detach().clone().requires_grad_(),))


def test_hierarchical_masked_logits(tree, gen):
    # -inf marks a node as impossible: off the path it changes nothing but its siblings'
    # softmax; on the path the loss is +inf; a whole group of -inf on the path makes every
    # node in it -inf (the full-tree route, which the kernel falls back to); NaN stays NaN
    z = rand(4, tree.num_nodes - 1, gen=gen, scale=2.0)
    cat, oak = (tree.leaves.index(tree.index(name)) for name in ("cat", "oak"))
    t = torch.tensor([cat, cat, oak, cat])
    z[0, tree.index("dog") - 1] = float("-inf")                     # off the path of cat
    z[1, tree.index("feline") - 1] = float("-inf")                  # on it
    for name in tree.names:                                         # the group below "plant"
        if name != "root" and tree.parents[tree.index(name)] == tree.index("plant"):
            z[2, tree.index(name) - 1] = float("-inf")
    z[3, tree.index("lion") - 1] = float("nan")
    z.requires_grad_()
    loss = companion.hierarchical_cross_entropy(z, t, tree, reduction="none")
    want = _loss_from_leaf_log_probs(z.detach(), t, tree)
    torch.testing.assert_close(loss, want, atol=1e-12, rtol=1e-12, equal_nan=True)
    assert bool(torch.isfinite(loss[0])) and loss[1] == float("inf") == loss[2]
    assert bool(torch.isnan(loss[3]))
    # the row with an off-path -inf keeps a finite gradient, zero at the masked node
    g, = torch.autograd.grad(loss[0], z)
    assert bool(torch.isfinite(g[0]).all()) and g[0, tree.index("dog") - 1] == 0


def test_sum_of_local_losses_equals_leaf_nll(tree, gen):
    z = rand(tree.num_nodes - 1, gen=gen)
    leaf = tree.index("dog")
    total = 0.0
    path = tree.path(leaf)
    for parent, child in zip(path[:-1], path[1:]):
        cols = [c - 1 for c in tree.children[parent]]
        total += F.cross_entropy(z[cols], torch.tensor(cols.index(child - 1))).item()
    got = companion.hierarchical_cross_entropy(z, torch.tensor(tree.leaves.index(leaf)), tree)
    assert got.item() == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_hierarchical_extreme_logits_finite(dtype, tree, gen):
    z = (1e4 * torch.sign(rand(6, tree.num_nodes - 1, gen=gen))).to(dtype).requires_grad_()
    t = randint(tree.num_leaves, 6, gen=gen)
    loss = companion.hierarchical_cross_entropy(z, t, tree)
    loss.backward()
    assert torch.isfinite(loss) and bool(torch.isfinite(z.grad).all())
    assert bool(torch.isfinite(companion.hierarchical_log_probs(z.detach(), tree)).all())


def test_hierarchical_inputs_unchanged(tree, gen):
    z = rand(3, tree.num_nodes - 1, gen=gen)
    t = randint(tree.num_leaves, 3, gen=gen)
    before = snapshot(z, t)
    companion.hierarchical_cross_entropy(z, t, tree)
    companion.hierarchical_log_probs(z, tree)
    assert_unchanged(before, z, t)


@pytest.mark.parametrize("call,exc,match", [
    (lambda tr: companion.hierarchical_log_probs(torch.zeros(2, 3), tr), ValueError,
     "logits have 3 entries on the last axis but the tree has 19 nodes; expected one logit per non-root node, 18"),
    (lambda tr: companion.hierarchical_log_probs(torch.zeros(18), [-1, 0]), TypeError, "tree must be a companion.Tree"),
    (lambda tr: companion.hierarchical_log_probs(torch.zeros(18, dtype=torch.long), tr), TypeError,
     "logits must be a floating-point tensor"),
    (lambda tr: companion.hierarchical_cross_entropy(torch.zeros(2, 18), torch.tensor([0, 9]), tr), ValueError,
     "target has leaf index 9 but the tree has 9 leaves"),
    (lambda tr: companion.hierarchical_cross_entropy(torch.zeros(2, 18), torch.tensor([0, -1]), tr), ValueError,
     "target has leaf index -1"),
    (lambda tr: companion.hierarchical_cross_entropy(torch.zeros(2, 18), torch.tensor([0.0, 1.0]), tr), TypeError,
     "target must hold integer leaf indices"),
    (lambda tr: companion.hierarchical_cross_entropy(torch.zeros(2, 18), torch.tensor([0]), tr), ValueError,
     r"target has shape \(1,\) but logits have shape \(2, 18\)"),
    (lambda tr: companion.hierarchical_cross_entropy(torch.zeros(2, 18), torch.tensor([0, 1]), tr, reduction=None),
     ValueError, "reduction must be"),
])
def test_hierarchical_errors(call, exc, match, tree):
    with pytest.raises(exc, match=match):
        call(tree)


# ----------------------------------------------------------------------------- adjacent JS

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES)
@pytest.mark.parametrize("with_mask", [False, True])
def test_adjacent_js_matches_reference(with_mask, dtype, atol, rtol, device, gen):
    z = rand(5, 29, 3, gen=gen, scale=2.0).to(dtype).to(device)
    mask = (torch.rand(5, 29, generator=gen) > 0.2).to(device) if with_mask else None
    got = companion.adjacent_js_penalty(z, mask=mask)
    assert got.dtype == dtype and got.dim() == 0
    want = R.adjacent_js_penalty(_np(z), mask=None if mask is None else mask.cpu().numpy())
    np.testing.assert_allclose(_np(got), want, atol=atol, rtol=rtol)


def test_adjacent_js_is_mean_of_js_divergence(gen):
    z = rand(2, 6, 4, gen=gen)
    mask = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    pairs = [companion.js_divergence(z[b, i], z[b, i + 1]) for b in range(2) for i in range(5)
             if mask[b, i] and mask[b, i + 1]]
    torch.testing.assert_close(companion.adjacent_js_penalty(z, mask=mask), torch.stack(pairs).mean())
    # padding must not matter: the masked tail can hold anything
    z2 = z.clone()
    z2[1, 3:] = 1e4
    torch.testing.assert_close(companion.adjacent_js_penalty(z2, mask=mask), torch.stack(pairs).mean())


def test_adjacent_js_gradcheck_and_empty_cases(gen):
    z = rand(3, 7, 4, gen=gen).requires_grad_()
    mask = torch.rand(3, 7, generator=gen) > 0.3
    assert torch.autograd.gradcheck(lambda a: companion.adjacent_js_penalty(a, mask=mask), (z,))
    assert torch.autograd.gradcheck(lambda a: companion.adjacent_js_penalty(a), (z,))
    for zz, m in ((z, torch.zeros(3, 7, dtype=torch.bool)), (z[:, :1], None)):
        out = companion.adjacent_js_penalty(zz, mask=m)
        g, = torch.autograd.grad(out, z)
        assert out.item() == 0.0 and torch.equal(g, torch.zeros_like(z))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_adjacent_js_extreme_logits(dtype):
    z = 1e4 * torch.eye(3)[torch.tensor([[0, 0, 1, 2, 2]])]
    z = z.to(dtype).requires_grad_()
    out = companion.adjacent_js_penalty(z)
    out.backward()
    assert out.item() == pytest.approx(0.5 * np.log(2), rel=1e-2)  # two of four pairs disagree fully
    assert bool(torch.isfinite(z.grad).all())


def test_adjacent_js_inputs_unchanged_and_errors(gen):
    z, mask = rand(2, 4, 3, gen=gen), torch.ones(2, 4, dtype=torch.bool)
    before = snapshot(z, mask)
    companion.adjacent_js_penalty(z, mask=mask)
    assert_unchanged(before, z, mask)
    with pytest.raises(ValueError, match="logits must have at least 2 dimension"):
        companion.adjacent_js_penalty(torch.zeros(3))
    with pytest.raises(TypeError, match="mask must be a boolean tensor"):
        companion.adjacent_js_penalty(z, mask=torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"mask has shape \(2, 3\) but must have shape \(2, 4\)"):
        companion.adjacent_js_penalty(z, mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        companion.adjacent_js_penalty(torch.zeros(2, 4, 3, dtype=torch.long))
