"""Property tests: every kernel keeps its promises at the edges (issue 13).

Generated inputs (hypothesis, derandomised, fixed example counts) against the float64 references:
extreme logits (up to 1e4) and half precision, empty and all-ignored batches, non-contiguous and
broadcast inputs, inputs unchanged after backward, gradcheck and gradgradcheck of every
differentiable function, and NaN/inf in every argument that is not a logit.

Logits are drawn as multiples of 1/512 of size up to 1e4, so that every difference of two logits
is exact in float32: the float64 reference of the same (cast) inputs is then the exact answer up
to the kernel's own rounding, and the tolerances below measure that rounding alone.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import companion
from companion import reference as R

SETTINGS = dict(derandomize=True, deadline=None, database=None, print_blob=False,
                suppress_health_check=list(HealthCheck))
FEW = settings(max_examples=12, **SETTINGS)
SOME = settings(max_examples=20, **SETTINGS)

NAN, INF = float("nan"), float("inf")
F64 = torch.float64
REDUCTIONS = ("mean", "sum", "none")
#: (dtype, rtol, atol) of a kernel's result against the float64 reference of its cast inputs:
#: float32 rounding, or the final rounding of a half-precision result (computed in float32)
PRECISIONS = {
    torch.float32: (2e-5, 1e-6),
    torch.float16: (2e-3, 1e-6),
    torch.bfloat16: (1.6e-2, 1e-6),
}
TREES = [companion.Tree([-1, 0, 0]), companion.Tree([-1, 0, 0, 1, 1, 1, 2, 2])]


def _np(t):
    return t.detach().cpu().double().numpy()


def _close(got, want, dtype, *, rtol=None, atol=None):
    r, a = PRECISIONS[dtype]
    np.testing.assert_allclose(_np(got), want, rtol=r if rtol is None else rtol,
                               atol=a if atol is None else atol)


# ----------------------------------------------------------------------------- strategies

@st.composite
def logits(draw, *, n=None, k=None, min_k=1, max_k=6, scale=None):
    """(tensor (n, k) float64 of multiples of 1/512 at a drawn scale, generator seed)."""
    n = draw(st.integers(1, 5)) if n is None else n
    k = draw(st.integers(min_k, max_k)) if k is None else k
    scale = draw(st.sampled_from([1.0, 30.0, 1e4])) if scale is None else scale
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, k, generator=g, dtype=F64) * scale
    z = torch.round(z * 512) / 512
    return z.clamp(-1e4, 1e4), g


def _soft_target(g, n, k, extreme):
    """Probability rows; extreme ones put 1e-6 (or exactly 0) on all classes but one."""
    t = torch.softmax(torch.randn(n, k, generator=g, dtype=F64) * 3, -1)
    if extreme:
        t = torch.full((n, k), 1e-6, dtype=F64)
        t[torch.arange(n), torch.randint(k, (n,), generator=g)] = 1.0 - (k - 1) * 1e-6
    return t


def _binary_target(g, shape, kind):
    if kind == "hard":
        return (torch.rand(shape, generator=g) < 0.5).to(F64)
    if kind == "extreme":
        return torch.where(torch.rand(shape, generator=g) < 0.5, 1e-6, 1 - 2**-20).to(F64)
    return torch.rand(shape, generator=g, dtype=F64)


dtypes = st.sampled_from(list(PRECISIONS))
reductions = st.sampled_from(REDUCTIONS)


# ----------------------------------------------------------------------------- parity at the edges

@SOME
@given(logits(), dtypes, reductions, st.booleans(), st.sampled_from([0.0, 0.2]), st.booleans())
def test_cross_entropy_hard_edges(zg, dtype, reduction, weighted, eps, ignore):
    z, g = zg
    n, k = z.shape
    y = torch.randint(k, (n,), generator=g)
    if ignore:
        y[::2] = -100
    w = torch.rand(k, generator=g, dtype=F64) + 0.1 if weighted else None
    zc = z.to(dtype)
    got = companion.cross_entropy(zc, y, weight=None if w is None else w.to(dtype),
                                  label_smoothing=eps, reduction=reduction)
    want = R.cross_entropy(_np(zc), y.numpy(), weight=None if w is None else _np(w.to(dtype)),
                           label_smoothing=eps, reduction=reduction)
    assert got.dtype == dtype
    _close(got, want, dtype)


@SOME
@given(logits(), dtypes, reductions, st.booleans())
def test_cross_entropy_soft_edges(zg, dtype, reduction, extreme):
    z, g = zg
    t = _soft_target(g, *z.shape, extreme)
    zc, tc = z.to(dtype), t.to(dtype)
    got = companion.cross_entropy(zc, tc, reduction=reduction)
    _close(got, R.cross_entropy(_np(zc), _np(tc), reduction=reduction), dtype)


@SOME
@given(logits(max_k=4), dtypes, reductions, st.sampled_from(["hard", "soft", "extreme"]),
       st.booleans(), st.booleans())
def test_binary_cross_entropy_edges(zg, dtype, reduction, kind, pos_weighted, masked):
    z, g = zg
    y = _binary_target(g, z.shape, kind)
    pw = torch.rand(z.shape[-1], generator=g, dtype=F64) * 3 if pos_weighted else None
    mask = torch.rand(z.shape, generator=g) < 0.7 if masked else None
    zc, yc = z.to(dtype), y.to(dtype)
    pwc = None if pw is None else pw.to(dtype)
    got = companion.binary_cross_entropy(zc, yc, pos_weight=pwc, mask=mask, reduction=reduction)
    want = R.binary_cross_entropy(_np(zc), _np(yc), pos_weight=None if pw is None else _np(pwc),
                                  mask=None if mask is None else mask.numpy(), reduction=reduction)
    _close(got, want, dtype)


@SOME
@given(logits(max_k=4), st.sampled_from(["hard", "soft", "extreme"]))
def test_binary_cross_entropy_as_accurate_as_the_focal_path(zg, kind):
    """Item 9: BCE is at least as accurate as binary_focal_loss(gamma=0, alpha=None)."""
    z, g = zg
    y = _binary_target(g, z.shape, kind)
    z32, y32 = z.float(), y.float()
    want = R.binary_cross_entropy(_np(z32), _np(y32), reduction="none")
    bce = _np(companion.binary_cross_entropy(z32, y32, reduction="none"))
    focal = _np(companion.binary_focal_loss(z32, y32, gamma=0.0, alpha=None, reduction="none"))
    scale = np.maximum(np.abs(want), 1e-30)
    assert np.all(np.abs(bce - want) / scale <= np.abs(focal - want) / scale + 2e-7)


@SOME
@given(logits(), dtypes, reductions, st.sampled_from([0.0, 0.5, 2.0]), st.booleans(), st.booleans())
def test_focal_loss_edges(zg, dtype, reduction, gamma, weighted, ignore):
    z, g = zg
    n, k = z.shape
    y = torch.randint(k, (n,), generator=g)
    if ignore:
        y[1::2] = -100
    a = torch.rand(k, generator=g, dtype=F64) + 0.1 if weighted else None
    zc = z.to(dtype)
    ac = None if a is None else a.to(dtype)
    got = companion.focal_loss(zc, y, gamma=gamma, alpha=ac, reduction=reduction)
    want = R.focal_loss(_np(zc), y.numpy(), gamma=gamma, alpha=None if a is None else _np(ac),
                        reduction=reduction)
    _close(got, want, dtype)


@SOME
@given(logits(max_k=4), dtypes, reductions, st.sampled_from(["hard", "soft", "extreme"]),
       st.sampled_from([0.0, 0.5, 2.0]), st.sampled_from([None, 0.25]))
def test_binary_focal_loss_edges(zg, dtype, reduction, kind, gamma, alpha):
    z, g = zg
    y = _binary_target(g, z.shape, kind)
    zc, yc = z.to(dtype), y.to(dtype)
    got = companion.binary_focal_loss(zc, yc, gamma=gamma, alpha=alpha, reduction=reduction)
    want = R.binary_focal_loss(_np(zc), _np(yc), gamma=gamma, alpha=alpha, reduction=reduction)
    _close(got, want, dtype)


@SOME
@given(logits(min_k=2), dtypes, st.sampled_from([-1.0, 1.0]))
def test_logit_adjusted_cross_entropy_edges(zg, dtype, tau):
    """Item 7: half precision is computed in float32, the adjusted logits included."""
    z, g = zg
    n, k = z.shape
    y = torch.randint(k, (n,), generator=g)
    priors = torch.softmax(torch.randn(k, generator=g, dtype=F64), -1)
    zc, pc = z.to(dtype), priors.to(dtype)
    got = companion.logit_adjusted_cross_entropy(zc, y, pc, tau=tau, reduction="none")
    # the adjusted logit z + tau log(pi) is rounded once in float32, at the size of z
    atol = PRECISIONS[dtype][1] + 4 * float(z.abs().max()) * 2.0**-24
    _close(got, R.logit_adjusted_cross_entropy(_np(zc), y.numpy(), _np(pc), tau=tau,
                                               reduction="none"), dtype, atol=atol)


@SOME
@given(logits(n=1), dtypes)
def test_logit_adjusted_cross_entropy_half_is_not_rounded_in_the_middle(zg, dtype):
    z, g = zg
    priors = torch.tensor([0.7, 0.2, 0.1][: z.shape[1]] + [0.1] * max(0, z.shape[1] - 3), dtype=F64)
    y = torch.zeros(1, dtype=torch.long)
    got = companion.logit_adjusted_cross_entropy(z.to(dtype), y, priors.to(dtype), reduction="sum")
    want = R.logit_adjusted_cross_entropy(_np(z.to(dtype)), y.numpy(), _np(priors.to(dtype)),
                                          reduction="sum")
    _close(got, want, dtype)


@SOME
@given(logits(min_k=2), dtypes, st.sampled_from([0.0, 1e-3, 1.0]))
def test_kl_and_js_edges(zg, dtype, step):
    z, g = zg
    w = z + step * torch.round(torch.randn(z.shape, generator=g, dtype=F64) * 512) / 512
    zc, wc = z.to(dtype), w.to(dtype)
    for fn, ref in ((companion.kl_divergence, R.kl_divergence), (companion.js_divergence, R.js_divergence)):
        got = fn(zc, wc)
        # divergences are sums of terms of both signs: their error scales with the entropy
        _close(got, ref(_np(zc), _np(wc)), dtype, atol=PRECISIONS[dtype][0] * 1e-2)
    assert torch.all(companion.js_divergence(zc, zc) == 0)
    assert torch.all(companion.kl_divergence(zc, zc) == 0)


def test_brier_and_js_do_not_cancel_near_perfect_predictions():
    """Item 8, the issue's own cases."""
    q = torch.tensor([[0.999, 0.001, 0.0]])
    want = R.brier_score(_np(q), np.array([0]))
    np.testing.assert_allclose(_np(companion.brier_score(q, torch.tensor([0]))), want, rtol=1e-6)
    np.testing.assert_allclose(_np(companion.brier_score(q, torch.tensor([[1.0, 0, 0]]))), want, rtol=1e-6)
    p = torch.tensor([[2.0, -1.0, 0.5], [30.0, 0.0, -4.0]])
    assert torch.all(companion.js_divergence(p, p) == 0)


@SOME
@given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**31 - 1), dtypes, st.booleans())
def test_scores_edges(n, k, seed, dtype, soft):
    g = torch.Generator().manual_seed(seed)
    sharp = bool(torch.rand((), generator=g) < 0.5)
    q = torch.softmax(torch.randn(n, k, generator=g, dtype=F64) * (30 if sharp else 1), -1).to(dtype)
    y = _soft_target(g, n, k, False).to(dtype) if soft else torch.randint(k, (n,), generator=g)
    yn = _np(y) if soft else y.numpy()
    _close(companion.brier_score(q, y), R.brier_score(_np(q), yn), dtype, atol=1e-9)
    _close(companion.log_score(q, y), R.log_score(_np(q), yn), dtype)
    _close(companion.code_length_bits(q, y), R.code_length_bits(_np(q), yn), dtype)


@SOME
@given(logits(scale=1e4), dtypes, st.sampled_from(range(len(TREES))), reductions)
def test_hierarchical_edges(zg, dtype, t, reduction):
    """Item 6: a per-group log-softmax keeps the relative accuracy at logits of size 1e4."""
    tree = TREES[t]
    _, g = zg
    n = zg[0].shape[0]
    z = torch.round(torch.randn(n, tree.num_nodes - 1, generator=g, dtype=F64) * 1e4 * 512) / 512
    z = z.clamp(-1e4, 1e4)
    zc = z.to(dtype)
    y = torch.randint(tree.num_leaves, (n,), generator=g)
    got = companion.hierarchical_cross_entropy(zc, y, tree, reduction=reduction)
    _close(got, R.hierarchical_cross_entropy(_np(zc), y.numpy(), tree, reduction=reduction), dtype)
    lp = companion.hierarchical_log_probs(zc, tree)
    _close(lp, R.hierarchical_log_probs(_np(zc), tree), dtype)


def test_hierarchical_issue_case():
    z = torch.tensor([[1e4, 9995.0]])
    got = companion.hierarchical_cross_entropy(z, torch.tensor([0]), companion.Tree([-1, 0, 0]))
    np.testing.assert_allclose(got.item(), math.log1p(math.exp(-5.0)), rtol=1e-6)


@SOME
@given(logits(), dtypes, st.sampled_from([0.5, 1.0, 4.0]), reductions)
def test_distillation_and_temperature_edges(zg, dtype, temperature, reduction):
    z, g = zg
    w = torch.round(torch.randn(z.shape, generator=g, dtype=F64) * 512 * 30) / 512
    zc, wc = z.to(dtype), w.to(dtype)
    got = companion.distillation_loss(zc, wc, temperature=temperature, reduction=reduction)
    want = R.distillation_loss(_np(zc), _np(wc), temperature=temperature, reduction=reduction)
    _close(got, want, dtype, atol=1e-5)
    _close(companion.softmax_with_temperature(zc, temperature),
           R.softmax_with_temperature(_np(zc), temperature), dtype)
    _close(companion.energy_score(zc, temperature=temperature),
           R.energy_score(_np(zc), temperature=temperature), dtype)


@SOME
@given(logits(max_k=4), dtypes, reductions, st.sampled_from(["hard", "soft", "extreme"]))
def test_multilabel_edges(zg, dtype, reduction, kind):
    z, g = zg
    y = _binary_target(g, z.shape, kind)
    mask = torch.rand(z.shape, generator=g) < 0.6
    zc, yc = z.to(dtype), y.to(dtype)
    got = companion.multilabel_cross_entropy(zc, yc, mask=mask, reduction=reduction)
    want = R.multilabel_cross_entropy(_np(zc), _np(yc), mask=mask.numpy(), reduction=reduction)
    _close(got, want, dtype)


# ----------------------------------------------------------------------------- -inf as a mask

def test_minus_inf_logits_are_masks():
    """Item 10: a class with zero target mass contributes 0 (0 log 0 = 0), value and gradient."""
    z = torch.tensor([[-INF, 0.0, 0.0]], requires_grad=True)
    t = torch.tensor([[0.0, 0.5, 0.5]])
    loss = companion.cross_entropy(z, t, reduction="none")
    assert loss.item() == pytest.approx(math.log(2))
    (g,) = torch.autograd.grad(loss.sum(), z)
    assert torch.isfinite(g).all() and g[0, 0] == 0
    a, b = torch.tensor([0.0, -INF], requires_grad=True), torch.tensor([0.0, 0.0], requires_grad=True)
    kl = companion.kl_divergence(a, b)
    assert kl.item() == pytest.approx(math.log(2))
    assert all(torch.isfinite(x).all() for x in torch.autograd.grad(kl, (a, b)))
    js = companion.js_divergence(a, b)
    assert js.item() == pytest.approx(R.js_divergence(np.array([0.0, -INF]), np.zeros(2)))
    assert all(torch.isfinite(x).all() for x in torch.autograd.grad(js, (a, b)))
    both = torch.tensor([0.0, -INF])
    assert companion.js_divergence(both, both).item() == 0.0
    d = companion.distillation_loss(torch.tensor([[0.0, -INF]]), torch.tensor([[1.0, -INF]]))
    assert d.item() == 0.0
    # positive target mass on a masked class is an infinite loss, not NaN
    assert companion.cross_entropy(z.detach(), torch.tensor([[0.2, 0.4, 0.4]])).item() == INF
    assert companion.cross_entropy(z.detach(), torch.tensor([1]), label_smoothing=0.1).item() == INF
    assert companion.focal_loss(z.detach(), torch.tensor([1])).isfinite().all()
    # a masked node has leaf log-probability -inf, even when all its siblings are masked
    tree = companion.Tree([-1, 0, 0, 1, 1])
    lp = companion.hierarchical_log_probs(torch.tensor([[-INF, 0.0, -INF, -INF]]), tree)
    assert lp.tolist() == [[0.0, -INF, -INF]]
    lp = companion.hierarchical_log_probs(torch.tensor([[0.0, 0.0, -INF, 0.0]]), tree)
    np.testing.assert_allclose(lp.exp().numpy(), [[0.5, 0.0, 0.5]])
    spec = {"categorical": [[0, 1, 2]]}
    out = companion.mixed_reconstruction_loss(z.detach(), torch.tensor([[0.0, 1.0, 0.0]]), spec)
    assert out["total"].item() == pytest.approx(math.log(2))


@FEW
@given(logits(min_k=3), st.booleans())
def test_masked_softmax_parity(zg, soft):
    """Random -inf masks (never on the target) agree with the reference, gradients finite."""
    z, g = zg
    n, k = z.shape
    y = torch.randint(k, (n,), generator=g)
    masked = (torch.rand(n, k, generator=g) < 0.4) & (torch.arange(k) != y.unsqueeze(-1))
    z = z.masked_fill(masked, -INF).requires_grad_()
    t = torch.softmax(torch.randn(n, k, generator=g, dtype=F64).masked_fill(masked, -INF), -1) if soft else y
    loss = companion.cross_entropy(z, t, reduction="none")
    np.testing.assert_allclose(_np(loss), R.cross_entropy(_np(z), _np(t) if soft else y.numpy(),
                                                          reduction="none"), rtol=1e-10, atol=1e-10)
    (gz,) = torch.autograd.grad(loss.sum(), z)
    assert torch.isfinite(gz).all()
    focal = companion.focal_loss(z, y, reduction="none")
    np.testing.assert_allclose(_np(focal), R.focal_loss(_np(z), y.numpy(), reduction="none"),
                               rtol=1e-10, atol=1e-12)
    assert torch.isfinite(torch.autograd.grad(focal.sum(), z)[0]).all()


# ----------------------------------------------------------------------------- empty and all-ignored

def _tree2():
    return TREES[0]


#: name -> callable(n) returning a loss of a batch of n rows (float64 leaves that require grad)
def _batch_losses(reduction):
    def ce(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.cross_entropy(z, torch.zeros(n, dtype=torch.long), reduction=reduction)

    def ce_soft(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.cross_entropy(z, torch.full((n, 3), 1 / 3, dtype=F64), reduction=reduction)

    def bce(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.binary_cross_entropy(z, torch.zeros(n, 3, dtype=F64), reduction=reduction)

    def focal(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.focal_loss(z, torch.zeros(n, dtype=torch.long), reduction=reduction)

    def bfocal(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.binary_focal_loss(z, torch.zeros(n, 3, dtype=F64), reduction=reduction)

    def multilabel(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.multilabel_cross_entropy(z, torch.zeros(n, 3, dtype=F64), reduction=reduction)

    def hier(n):
        z = torch.randn(n, 2, dtype=F64, requires_grad=True)
        return z, companion.hierarchical_cross_entropy(z, torch.zeros(n, dtype=torch.long), _tree2(),
                                                       reduction=reduction)

    def distill(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.distillation_loss(z, torch.zeros(n, 3, dtype=F64), reduction=reduction)

    def lace(n):
        z = torch.randn(n, 3, dtype=F64, requires_grad=True)
        return z, companion.logit_adjusted_cross_entropy(z, torch.zeros(n, dtype=torch.long),
                                                          torch.tensor([.5, .3, .2], dtype=F64),
                                                          reduction=reduction)

    return {"cross_entropy": ce, "cross_entropy_soft": ce_soft, "binary_cross_entropy": bce,
            "focal_loss": focal, "binary_focal_loss": bfocal, "multilabel_cross_entropy": multilabel,
            "hierarchical_cross_entropy": hier, "distillation_loss": distill,
            "logit_adjusted_cross_entropy": lace}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(_batch_losses("mean")))
def test_empty_batch_gives_zero(name, reduction):
    z, loss = _batch_losses(reduction)[name](0)
    if reduction == "none":
        assert loss.numel() == 0
        return
    assert loss.item() == 0.0
    (g,) = torch.autograd.grad(loss, z, allow_unused=True)
    assert g is None or (g.numel() == 0)


def test_empty_batches_elsewhere():
    out = companion.mixed_reconstruction_loss(torch.zeros(0, 3), torch.zeros(0, 3),
                                              {"binary": [0], "continuous": [1], "categorical": [[1, 2]]})
    assert all(v.item() == 0.0 for v in out.values())
    assert companion.adjacent_js_penalty(torch.zeros(0, 4, 3)).item() == 0.0
    assert companion.expected_calibration_error(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)).item() == 0
    assert companion.entropy(torch.zeros(0, 3)).numel() == 0
    assert companion.brier_score(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)).numel() == 0


@pytest.mark.parametrize("name,fn", [
    ("cross_entropy", lambda z: companion.cross_entropy(z, torch.full((4,), -100))),
    ("cross_entropy_weight0", lambda z: companion.cross_entropy(z, torch.zeros(4, dtype=torch.long),
                                                                weight=torch.tensor([0.0, 1, 1], dtype=F64))),
    ("focal_loss", lambda z: companion.focal_loss(z, torch.full((4,), -100))),
    ("binary_cross_entropy", lambda z: companion.binary_cross_entropy(
        z, torch.zeros(4, 3, dtype=F64), mask=torch.zeros(4, 3, dtype=torch.bool))),
    ("multilabel", lambda z: companion.multilabel_cross_entropy(
        z, torch.zeros(4, 3, dtype=F64), mask=torch.zeros(4, 3, dtype=torch.bool))),
])
def test_all_ignored_batch_gives_zero_with_zero_gradient(name, fn):
    z = torch.randn(4, 3, dtype=F64, requires_grad=True)
    loss = fn(z)
    assert loss.item() == 0.0
    (g,) = torch.autograd.grad(loss, z)
    assert torch.equal(g, torch.zeros_like(g))


# ----------------------------------------------------------------------------- layouts, inputs unchanged

def _layout_cases():
    """name -> fn(z, aux) over a (N, K) logits tensor and a (N, K) [0, 1] tensor."""
    y_of = lambda a: (a * 3).long().clamp(max=2)[:, 0]
    return {
        "cross_entropy": lambda z, a: companion.cross_entropy(z, y_of(a), reduction="none"),
        "cross_entropy_soft": lambda z, a: companion.cross_entropy(z, a / a.sum(-1, keepdim=True), reduction="none"),
        "binary_cross_entropy": lambda z, a: companion.binary_cross_entropy(z, a, reduction="none"),
        "focal_loss": lambda z, a: companion.focal_loss(z, y_of(a), reduction="none"),
        "binary_focal_loss": lambda z, a: companion.binary_focal_loss(z, a, reduction="none"),
        "multilabel": lambda z, a: companion.multilabel_cross_entropy(z, a, reduction="none"),
        "kl": lambda z, a: companion.kl_divergence(z, a),
        "js": lambda z, a: companion.js_divergence(z, a),
        "distillation": lambda z, a: companion.distillation_loss(z, a, temperature=2.0, reduction="none"),
        "entropy": lambda z, a: companion.entropy(a),
        "energy": lambda z, a: companion.energy_score(z),
        "hierarchical": lambda z, a: companion.hierarchical_log_probs(z[:, :2], _tree2()),
        "logit_adjust": lambda z, a: companion.logit_adjust(z, a[0] + 0.1),
        "brier": lambda z, a: companion.brier_score(a / a.sum(-1, keepdim=True), y_of(a)),
    }


@FEW
@given(st.integers(2, 4), st.integers(0, 2**31 - 1))
def test_non_contiguous_and_broadcast_inputs(n, seed):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(3, n, dtype=F64, generator=g) * 3
    a = torch.rand(3, n, dtype=F64, generator=g) * 0.9 + 0.05
    zt, at = z.T, a.T                              # non-contiguous (n, 3) views
    row = torch.rand(1, 3, dtype=F64, generator=g) * 0.9 + 0.05
    for name, fn in _layout_cases().items():
        assert not zt.is_contiguous()
        torch.testing.assert_close(fn(zt, at), fn(zt.contiguous(), at.contiguous()), msg=name)
        expanded = row.expand(n, 3)                # a broadcast (stride-0) view
        torch.testing.assert_close(fn(zt, expanded), fn(zt.contiguous(), expanded.contiguous()), msg=name)


@FEW
@given(st.integers(0, 2**31 - 1))
def test_inputs_unchanged_after_backward(seed):
    g = torch.Generator().manual_seed(seed)
    for name, fn in _layout_cases().items():
        z = (torch.randn(4, 3, dtype=F64, generator=g) * 3).requires_grad_()
        a = (torch.rand(4, 3, dtype=F64, generator=g) * 0.9 + 0.05).requires_grad_()
        before = [z.detach().clone(), a.detach().clone()]
        out = fn(z, a)
        out.sum().backward()
        assert torch.equal(z.detach(), before[0]) and torch.equal(a.detach(), before[1]), name


# ----------------------------------------------------------------------------- gradcheck, gradgradcheck

def _differentiable():
    """name -> (fn, inputs): every differentiable kernel, float64, all inputs requiring grad."""
    g = torch.Generator().manual_seed(0)
    z = lambda *s: (torch.randn(*s, dtype=F64, generator=g) * 2).requires_grad_()
    p = lambda *s: (torch.rand(*s, dtype=F64, generator=g) * 0.8 + 0.1).requires_grad_()
    y = torch.tensor([0, 2, 1, -100])
    soft = torch.softmax(torch.randn(4, 3, dtype=F64, generator=g), -1).requires_grad_()
    w = p(3)
    tree = TREES[1]
    return {
        "cross_entropy_hard": (lambda z, w: companion.cross_entropy(z, y, weight=w, label_smoothing=0.1), (z(4, 3), w)),
        "cross_entropy_hard_closed": (lambda z: companion.cross_entropy(z, y, label_smoothing=0.1, reduction="none"), (z(4, 3),)),
        "cross_entropy_soft": (lambda z, t: companion.cross_entropy(z, t), (z(4, 3), soft)),
        "binary_cross_entropy": (lambda z: companion.binary_cross_entropy(z, torch.tensor([[0.0, 1, 0.3]], dtype=F64),
                                                                          pos_weight=torch.tensor([1.0, 2.0, 0.5], dtype=F64)), (z(1, 3),)),
        "binary_cross_entropy_all_args": (lambda z, t, pw, wt: companion.binary_cross_entropy(z, t, pos_weight=pw, weight=wt),
                                          (z(2, 3), p(2, 3), p(3), p(2, 3))),
        "binary_cross_entropy_masked": (lambda z: companion.binary_cross_entropy(
            z, torch.tensor([[0.0, 1, 0.3]], dtype=F64), mask=torch.tensor([[True, False, True]])), (z(1, 3),)),
        "focal_loss": (lambda z: companion.focal_loss(z, y, gamma=2.0), (z(4, 3),)),
        "focal_loss_gamma_half": (lambda z: companion.focal_loss(z, y, gamma=0.5, reduction="none"), (z(4, 3),)),
        "focal_loss_alpha": (lambda z, a: companion.focal_loss(z, y, alpha=a), (z(4, 3), p(3))),
        "focal_loss_one_class": (lambda z: companion.focal_loss(z, torch.zeros(3, dtype=torch.long)), (z(3, 1),)),
        "binary_focal_loss": (lambda z: companion.binary_focal_loss(z, torch.tensor([0.0, 1, 1, 0], dtype=F64), gamma=1.5), (z(4),)),
        "binary_focal_loss_soft": (lambda z: companion.binary_focal_loss(z, torch.tensor([0.2, 1, 0.7, 0], dtype=F64)), (z(4),)),
        "binary_focal_loss_target": (lambda z, t: companion.binary_focal_loss(z, t, gamma=2.0), (z(4), p(4))),
        "entropy": (lambda q: companion.entropy(q), (p(2, 3),)),
        "kl_divergence": (lambda a, b: companion.kl_divergence(a, b), (z(2, 3), z(2, 3))),
        "js_divergence": (lambda a, b: companion.js_divergence(a, b), (z(2, 3), z(2, 3))),
        "logit_adjust": (lambda z: companion.logit_adjust(z, torch.tensor([.5, .3, .2], dtype=F64)), (z(2, 3),)),
        "logit_adjusted_cross_entropy": (lambda z: companion.logit_adjusted_cross_entropy(
            z, y.clamp(min=0), torch.tensor([.5, .3, .2], dtype=F64)), (z(4, 3),)),
        "smooth_labels": (lambda t: companion.smooth_labels(t, 3, 0.2), (soft,)),
        "multilabel_cross_entropy": (lambda z: companion.multilabel_cross_entropy(
            z, torch.tensor([[0.0, 1, 0.3]], dtype=F64), mask=torch.tensor([[True, False, True]])), (z(1, 3),)),
        "hierarchical_log_probs": (lambda z: companion.hierarchical_log_probs(z, tree), (z(2, 7),)),
        "hierarchical_cross_entropy": (lambda z: companion.hierarchical_cross_entropy(z, torch.tensor([0, 3]), tree), (z(2, 7),)),
        "adjacent_js_penalty": (lambda z: companion.adjacent_js_penalty(z), (z(1, 3, 3),)),
        "softmax_with_temperature": (lambda z: companion.softmax_with_temperature(z, 2.0), (z(2, 3),)),
        "distillation_loss": (lambda a, b: companion.distillation_loss(a, b, temperature=2.0), (z(2, 3), z(2, 3))),
        "info_nce": (lambda q, k: companion.info_nce(q, k, temperature=0.5), (z(3, 2), z(3, 2))),
        "nt_xent": (lambda a, b: companion.nt_xent(a, b), (z(2, 2), z(2, 2))),
        "energy_score": (lambda z: companion.energy_score(z, temperature=2.0), (z(2, 3),)),
        "mixed_reconstruction_loss": (lambda o: companion.mixed_reconstruction_loss(
            o, torch.tensor([[1.0, 0.5, 0.0, 1.0, 0.0]], dtype=F64),
            {"binary": [0], "continuous": [1], "categorical": [[2, 3, 4]],
             "continuous_loss": "gaussian_nll", "log_var": [5]})["total"], (z(1, 6),)),
        "log_score": (lambda q: companion.log_score(q, torch.tensor([0, 2])), (p(2, 3),)),
        "brier_score": (lambda q, t: companion.brier_score(q, t), (p(2, 3), p(2, 3))),
        "brier_score_hard": (lambda q: companion.brier_score(q, torch.tensor([0, 2])), (p(2, 3),)),
        "code_length_bits": (lambda q: companion.code_length_bits(q, torch.tensor([0, 2])), (p(2, 3),)),
        # the module's log-variances as an explicit input (functional_call), so both get checked
        "uncertainty_weighting": (lambda l, s: torch.func.functional_call(
            companion.UncertaintyWeighting(3), {"log_var": s}, (l,)), (p(3), z(3))),
    }


CASES = _differentiable()


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck_and_gradgradcheck(name):
    fn, inputs = CASES[name]
    assert torch.autograd.gradcheck(fn, inputs, atol=1e-6)
    assert torch.autograd.gradgradcheck(fn, inputs, atol=1e-5)


@pytest.mark.parametrize("name", ["binary_focal_loss", "binary_cross_entropy", "focal_loss",
                                  "cross_entropy_hard_closed"])
def test_double_backward_is_never_silently_dropped(name):
    """Item 4: with create_graph=True the gradient itself requires grad."""
    fn, inputs = CASES[name]
    out = fn(*inputs)
    (g,) = torch.autograd.grad(out.sum(), inputs[0], create_graph=True)
    assert g.requires_grad


def test_focal_one_class_derivatives_are_zero():
    """Item 5: K = 1, gamma > 0: the loss is identically 0, so is every derivative."""
    z = torch.randn(3, 1, dtype=F64, requires_grad=True)
    for gamma in (0.0, 0.5, 2.0):
        loss = companion.focal_loss(z, torch.zeros(3, dtype=torch.long), gamma=gamma)
        (g,) = torch.autograd.grad(loss, z, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), z)
        assert loss.item() == 0 and torch.equal(g.detach(), torch.zeros_like(g)) and torch.equal(h, torch.zeros_like(h))


def test_binary_focal_target_gradient_is_finite_at_zero_and_one():
    """Item 3: d loss / d target at targets 0 and 1 is finite and matches finite differences."""
    z = torch.tensor([-2.0, 0.5, 3.0, -1.0], dtype=F64)
    for t0 in (0.0, 1.0):
        t = torch.full((4,), t0, dtype=F64, requires_grad=True)
        (g,) = torch.autograd.grad(companion.binary_focal_loss(z, t, reduction="sum"), t)
        assert torch.isfinite(g).all()
        h = 1e-7 * (1 if t0 == 0 else -1)
        f = lambda v: _np(companion.binary_focal_loss(z, torch.full((4,), v, dtype=F64), reduction="none"))
        np.testing.assert_allclose(_np(g), (f(t0 + h) - f(t0)) / h, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- NaN / inf in every non-logit argument

def _poisoned(value):
    """(name, argument, call) for every non-logit tensor or number argument, poisoned by value."""
    z3 = torch.zeros(2, 3)
    y = torch.tensor([0, 1])
    p3 = torch.full((2, 3), 1 / 3)
    bad_p = p3.clone()
    bad_p[0, 1] = value
    bad_v = torch.tensor([1.0, value, 1.0])
    bad_m = torch.ones(2, 3)
    bad_m[1, 2] = value
    tree = TREES[0]
    spec = {"binary": [0], "continuous": [1], "categorical": [[1, 2]]}
    return [
        ("cross_entropy", "target", lambda: companion.cross_entropy(z3, bad_p)),
        ("cross_entropy", "weight", lambda: companion.cross_entropy(z3, y, weight=bad_v)),
        ("cross_entropy", "label_smoothing", lambda: companion.cross_entropy(z3, y, label_smoothing=value)),
        ("binary_cross_entropy", "target", lambda: companion.binary_cross_entropy(z3, bad_p)),
        ("binary_cross_entropy", "pos_weight", lambda: companion.binary_cross_entropy(z3, p3, pos_weight=bad_v)),
        ("binary_cross_entropy", "weight", lambda: companion.binary_cross_entropy(z3, p3, weight=bad_m)),
        ("entropy", "probs", lambda: companion.entropy(bad_p)),
        ("focal_loss", "alpha", lambda: companion.focal_loss(z3, y, alpha=bad_v)),
        ("focal_loss", "gamma", lambda: companion.focal_loss(z3, y, gamma=value)),
        ("binary_focal_loss", "target", lambda: companion.binary_focal_loss(z3, bad_p)),
        ("binary_focal_loss", "gamma", lambda: companion.binary_focal_loss(z3, p3, gamma=value)),
        ("binary_focal_loss", "alpha", lambda: companion.binary_focal_loss(z3, p3, alpha=value)),
        ("logit_adjust", "priors", lambda: companion.logit_adjust(z3, bad_v)),
        ("logit_adjust", "tau", lambda: companion.logit_adjust(z3, torch.ones(3), tau=value)),
        ("logit_adjusted_cross_entropy", "priors", lambda: companion.logit_adjusted_cross_entropy(z3, y, bad_v)),
        ("class_weights", "counts", lambda: companion.class_weights(bad_v)),
        ("class_weights", "beta", lambda: companion.class_weights([1, 2], "effective", beta=value)),
        ("smooth_labels", "target", lambda: companion.smooth_labels(bad_p, 3, 0.1)),
        ("smooth_labels", "alpha", lambda: companion.smooth_labels(y, 3, value)),
        ("ordinal_smooth_labels", "eps", lambda: companion.ordinal_smooth_labels(y, 3, value)),
        ("mixup", "y", lambda: companion.mixup(z3, bad_p, 0.4)),
        ("mixup", "alpha", lambda: companion.mixup(z3, p3, value)),
        ("multilabel_cross_entropy", "targets", lambda: companion.multilabel_cross_entropy(z3, bad_p)),
        ("multilabel_cross_entropy", "pos_weight", lambda: companion.multilabel_cross_entropy(z3, p3, pos_weight=bad_v)),
        ("softmax_with_temperature", "temperature", lambda: companion.softmax_with_temperature(z3, value)),
        ("distillation_loss", "temperature", lambda: companion.distillation_loss(z3, z3, temperature=value)),
        ("info_nce", "temperature", lambda: companion.info_nce(z3 + 1, z3 + 1, temperature=value)),
        ("nt_xent", "temperature", lambda: companion.nt_xent(z3 + 1, z3 + 1, temperature=value)),
        ("energy_score", "temperature", lambda: companion.energy_score(z3, temperature=value)),
        # an infinite score is still comparable: only NaN is bad input for ood_metrics
        ("ood_metrics", "score_in", (lambda: companion.ood_metrics(bad_v, torch.ones(3))) if value != value else None),
        ("mixed_reconstruction_loss", "batch", lambda: companion.mixed_reconstruction_loss(z3, bad_m, spec)),
        ("mixed_reconstruction_loss", "batch", lambda: companion.mixed_reconstruction_loss(
            z3, torch.tensor([[1.0, value, 0.0], [0.0, 0.0, 1.0]]), spec)),
        ("log_score", "probs", lambda: companion.log_score(bad_p, y)),
        ("log_score", "target", lambda: companion.log_score(p3, bad_p)),
        ("brier_score", "probs", lambda: companion.brier_score(bad_p, y)),
        ("brier_score", "target", lambda: companion.brier_score(p3, bad_p)),
        ("code_length_bits", "target", lambda: companion.code_length_bits(p3, bad_p)),
        ("expected_calibration_error", "probs", lambda: companion.expected_calibration_error(bad_p, y)),
        ("reliability_curve", "probs", lambda: companion.reliability_curve(bad_p, y)),
        ("bayes_decision", "cost_matrix", lambda: companion.bayes_decision(p3, bad_m)),
        ("bayes_decision", "probs", lambda: companion.bayes_decision(bad_p, torch.ones(2, 3))),
        ("cost_threshold", "cost_fp", lambda: companion.cost_threshold(value, 1.0)),
        ("cost_threshold", "cost_fn", lambda: companion.cost_threshold(1.0, value)),
    ]


@pytest.mark.parametrize("value", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
def test_nan_and_inf_in_non_logit_arguments_raise(value):
    for function, argument, call in _poisoned(value):
        if call is None:
            continue
        with pytest.raises(ValueError) as info:
            call()
        assert argument in str(info.value), (function, argument, str(info.value))


def test_issue_examples_raise():
    """Item 1, the issue's own cases."""
    with pytest.raises(ValueError, match="weight"):
        companion.cross_entropy(torch.zeros(1, 3), torch.tensor([0]), weight=torch.tensor([1.0, NAN, 1.0]))
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\]"):
        companion.cross_entropy(torch.zeros(1, 3), torch.tensor([[1.5, 0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        companion.multilabel_cross_entropy(torch.zeros(1, 3), torch.tensor([[NAN, 0.0, 0.0]]))


def test_chunked_linear_cross_entropy_double_backward_is_a_clear_error():
    """Item 4 for companion.lm: create_graph=True raises instead of a gradient without a graph."""
    h = torch.randn(5, 4, dtype=F64, requires_grad=True)
    w = torch.randn(7, 4, dtype=F64, requires_grad=True)
    loss = companion.chunked_linear_cross_entropy(h, w, torch.randint(7, (5,)), chunk_size=2)
    with pytest.raises(RuntimeError, match="double backward"):
        torch.autograd.grad(loss, h, create_graph=True)


def test_error_messages_name_the_callers_arguments():
    """Scores take probs, not logits: their messages say so."""
    q = torch.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="target has class index 5 but probs have 3 classes"):
        companion.brier_score(q, torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="but probs have shape"):
        companion.log_score(q, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="targets has shape"):
        companion.multilabel_cross_entropy(q, torch.zeros(2, 2))


@SOME
@given(logits(), reductions, st.sampled_from([0.0, 0.5, 2.0]), st.booleans(), st.booleans())
def test_focal_closed_form_gradient_equals_the_composed_form(zg, reduction, gamma, weighted, ignore):
    """The one-pass backward of focal_loss agrees with autograd through the composed form."""
    from companion._focal import _focal_composed
    z, g = zg
    n, k = z.shape
    y = torch.randint(k, (n,), generator=g)
    if ignore:
        y[::3] = -100
    a = torch.rand(k, generator=g, dtype=F64) + 0.1 if weighted else None
    z = z.requires_grad_()
    fast = companion.focal_loss(z, y, gamma=gamma, alpha=a, reduction=reduction)
    valid = y != -100
    slow = _focal_composed(z, torch.where(valid, y, 0), valid, a, gamma, reduction)
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-300)
    go = torch.linspace(0.5, 1.5, fast.numel(), dtype=F64).reshape(fast.shape)
    (g_fast,) = torch.autograd.grad(fast, z, go)
    (g_slow,) = torch.autograd.grad(slow, z, go)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-9, atol=1e-12)


@SOME
@given(logits(max_k=4), reductions, st.sampled_from(["hard", "soft", "extreme"]), st.booleans(),
       st.booleans(), st.booleans())
def test_bce_closed_form_gradient_equals_the_composed_form(zg, reduction, kind, pos_weighted,
                                                           weighted, masked):
    """The closed-form backward of binary_cross_entropy agrees with autograd's."""
    from companion.core import _bce_reduced
    z, g = zg
    y = _binary_target(g, z.shape, kind)
    pw = torch.rand(z.shape[-1], generator=g, dtype=F64) * 3 if pos_weighted else None
    w = torch.rand(z.shape, generator=g, dtype=F64) if weighted else None
    mask = torch.rand(z.shape, generator=g) < 0.7 if masked else None
    z = z.requires_grad_()
    fast = companion.binary_cross_entropy(z, y, pos_weight=pw, weight=w, mask=mask, reduction=reduction)
    slow = _bce_reduced(z, y, pw, w, mask, reduction)
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-300)
    go = torch.linspace(0.5, 1.5, fast.numel(), dtype=F64).reshape(fast.shape)
    (g_fast,) = torch.autograd.grad(fast, z, go)
    (g_slow,) = torch.autograd.grad(slow, z, go)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-9, atol=1e-12)


def test_dawid_skene_on_zero_items_is_finite():
    """Item 2 for companion.crowd: an empty crowd gives finite priors, not NaN."""
    result = companion.dawid_skene(torch.zeros(0, 3, dtype=torch.long), 2)
    assert result.posteriors.shape == (0, 2)
    assert torch.isfinite(result.priors).all() and torch.isfinite(result.confusion).all()


@FEW
@given(st.lists(st.integers(1, 5000), min_size=2, max_size=6), st.sampled_from(["inverse", "inverse_sqrt", "effective"]),
       dtypes)
def test_class_weights_half_precision_rounds_once(counts, scheme, dtype):
    n = torch.tensor(counts, dtype=dtype)
    got = companion.class_weights(n, scheme)
    assert got.dtype == dtype
    _close(got, R.class_weights(_np(n), scheme), dtype)
