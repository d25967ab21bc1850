"""cross_entropy's hard-target path computes its gradient in closed form (a custom autograd
Function): check it against torch.nn.functional, including the cases the closed form hands
over to the composed path (double backward, a class weight that requires grad)."""
from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

import companion

from conftest import rand, randint


@pytest.mark.parametrize("use_weight,smoothing,reduction",
                         list(itertools.product([False, True], [0.0, 0.2], ["mean", "sum", "none"])))
def test_cross_entropy_double_backward_matches_torch(use_weight, smoothing, reduction, gen):
    z = rand(6, 5, gen=gen, scale=2.0).requires_grad_()
    y = randint(5, 6, gen=gen)
    y[1] = -100
    w = torch.rand(5, generator=gen, dtype=torch.float64) + 0.3 if use_weight else None
    kw = dict(weight=w, label_smoothing=smoothing, reduction=reduction)
    v = rand(6, 5, gen=gen)

    def hvp(fn):
        out = fn(z, y, **kw)
        go = torch.ones_like(out) if out.dim() == 0 else torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype)
        (g,) = torch.autograd.grad(out, z, go, create_graph=True)
        return torch.autograd.grad((g * v).sum(), z)[0]
    torch.testing.assert_close(hvp(companion.cross_entropy), hvp(F.cross_entropy), atol=1e-12, rtol=1e-12)
    assert torch.autograd.gradgradcheck(lambda a: companion.cross_entropy(a, y, **kw), (z,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_plain_path_matches_torch(reduction, gen):
    # every target counted, no weight, no smoothing: the short path (_PlainCrossEntropy);
    # (B, L, K) logits, a non-contiguous view, int32 targets and uneven upstream gradients
    base = rand(3, 5, 14, gen=gen, scale=3.0)
    z = base[:, :, ::2].requires_grad_()            # (3, 5, 7), not contiguous
    y = randint(7, 3, 5, gen=gen).to(torch.int32)
    ours = companion.cross_entropy(z, y, reduction=reduction)
    want = F.cross_entropy(z.movedim(-1, 1), y.long(), reduction=reduction)
    torch.testing.assert_close(ours, want, atol=1e-12, rtol=1e-12)
    go = (torch.ones_like(want) if want.dim() == 0 else
          torch.linspace(-1.0, 2.0, want.numel(), dtype=want.dtype).reshape(want.shape))
    g_ours, = torch.autograd.grad(ours, z, go, create_graph=True)
    g_want, = torch.autograd.grad(want, z, go, create_graph=True)
    torch.testing.assert_close(g_ours, g_want, atol=1e-12, rtol=1e-12)
    v = rand(3, 5, 7, gen=gen)
    h_ours, = torch.autograd.grad((g_ours * v).sum(), z)
    h_want, = torch.autograd.grad((g_want * v).sum(), z)
    torch.testing.assert_close(h_ours, h_want, atol=1e-12, rtol=1e-12)
    assert torch.autograd.gradgradcheck(
        lambda a: companion.cross_entropy(a, y, reduction=reduction), (z.detach().clone()
                                                                        .requires_grad_(),))
    assert torch.equal(base[:, :, ::2], z.detach())  # the input is not modified


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("soft", [False, True])
def test_cross_entropy_backward_twice_through_a_retained_graph(soft, reduction, gen):
    # hard (_PlainCrossEntropy) and soft targets (_SoftCrossEntropy): the first backward
    # writes the gradient over the log-probabilities kept by forward; a second one through
    # the retained graph recomputes them, and neither gradient changes the other
    z = rand(6, 9, gen=gen, scale=3.0).requires_grad_()
    y = torch.softmax(rand(6, 9, gen=gen, scale=2.0), -1) if soft else randint(9, 6, gen=gen)
    ours = companion.cross_entropy(z, y, reduction=reduction)
    want = F.cross_entropy(z, y, reduction=reduction)
    ups = [torch.ones_like(want) if want.dim() == 0 else
           torch.linspace(-1.0, 2.0, want.numel(), dtype=want.dtype), None]
    ups[1] = 3.0 * ups[0]
    g1, = torch.autograd.grad(ours, z, ups[0], retain_graph=True)
    kept = g1.clone()
    g2, = torch.autograd.grad(ours, z, ups[1], retain_graph=True)
    g3, = torch.autograd.grad(ours, z, ups[0])
    for g, go in ((g1, ups[0]), (g2, ups[1]), (g3, ups[0])):
        torch.testing.assert_close(g, torch.autograd.grad(want, z, go, retain_graph=True)[0],
                                   atol=1e-12, rtol=1e-12)
    assert torch.equal(g1, kept) and torch.equal(g1, g3)


def test_cross_entropy_ignore_index_inside_the_target_range_but_absent(gen):
    # ignore_index = 2 lies between the smallest and largest target but no target is 2: the
    # general path is taken, with every row counted, and it agrees with torch
    z = rand(8, 5, gen=gen).requires_grad_()
    y = torch.tensor([0, 4, 1, 3, 0, 4, 1, 3])
    ours = companion.cross_entropy(z, y, ignore_index=2)
    want = F.cross_entropy(z, y, ignore_index=2)
    torch.testing.assert_close(ours, want, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(ours, z)[0], torch.autograd.grad(want, z)[0],
                               atol=1e-12, rtol=1e-12)


def test_cross_entropy_gradient_reaches_a_weight_that_requires_grad(gen):
    z = rand(7, 4, gen=gen).requires_grad_()
    y = randint(4, 7, gen=gen)
    w = (torch.rand(4, generator=gen, dtype=torch.float64) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: companion.cross_entropy(a, y, weight=b, label_smoothing=0.1),
                                    (z, w))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_cross_entropy_closed_form_gradient_per_dtype(dtype, gen):
    z = rand(9, 6, gen=gen, scale=2.0).to(dtype).requires_grad_()
    y = randint(6, 9, gen=gen)
    y[0] = -100
    w = (torch.rand(6, generator=gen, dtype=torch.float64) + 0.5).to(dtype)
    (ours,) = torch.autograd.grad(companion.cross_entropy(z, y, weight=w, label_smoothing=0.1), z)
    z32 = z.detach().float().requires_grad_()
    (ref,) = torch.autograd.grad(F.cross_entropy(z32, y, weight=w.float(), label_smoothing=0.1), z32)
    assert ours.dtype == dtype
    torch.testing.assert_close(ours.float(), ref, atol=2 * torch.finfo(dtype).eps, rtol=0)


# --------------------------------------------------------- soft targets: (sum_k c_k) p - c

@pytest.mark.parametrize("use_weight,smoothing,reduction",
                         list(itertools.product([False, True], [0.0, 0.2], ["mean", "sum", "none"])))
def test_soft_cross_entropy_gradient_and_double_backward_match_torch(use_weight, smoothing,
                                                                      reduction, gen):
    # a batched, non-contiguous (B, T, K) input and an uneven upstream gradient
    z = rand(5, 3, 4, gen=gen, scale=2.0).transpose(0, 1).requires_grad_()
    t = torch.softmax(rand(3, 5, 4, gen=gen, scale=3.0), -1)
    w = torch.rand(4, generator=gen, dtype=torch.float64) + 0.3 if use_weight else None
    kw = dict(weight=w, label_smoothing=smoothing, reduction=reduction)
    v = rand(3, 5, 4, gen=gen)

    def grads(fn):
        out = fn(z, t, **kw)
        go = torch.ones_like(out) if out.dim() == 0 else torch.linspace(
            0.5, 1.5, out.numel(), dtype=out.dtype).reshape(out.shape)
        (g_first,) = torch.autograd.grad(out, z, go, retain_graph=True)  # the closed form
        (g,) = torch.autograd.grad(out, z, go, create_graph=True)  # the composed form
        return out, g_first, g, torch.autograd.grad((g * v).sum(), z)[0]

    def torch_ce(a, b, **k):  # class axis 1 for torch
        out = F.cross_entropy(a.movedim(-1, 1), b.movedim(-1, 1), **k)
        return out
    for ours, theirs in zip(grads(companion.cross_entropy), grads(torch_ce)):
        torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-12)
    assert torch.autograd.gradgradcheck(lambda a: companion.cross_entropy(a, t, **kw), (z,))


def test_soft_cross_entropy_masked_class_keeps_zero_log_zero_and_its_gradient(gen):
    # a -inf logit where the target has no mass: 0 log 0 = 0 in the loss (the dot product
    # gives NaN there and the row is redone), and the gradient is the composed form's
    z = rand(4, 5, gen=gen)
    z[1, 2] = z[3, 0] = -float("inf")
    t = torch.softmax(rand(4, 5, gen=gen), -1)
    t[1, 2] = t[3, 0] = 0.0
    t = t / t.sum(-1, keepdim=True)
    z.requires_grad_()
    loss = companion.cross_entropy(z, t, reduction="none")
    log_p = torch.log_softmax(z.detach(), -1)
    want = -(t * torch.where(t == 0, torch.zeros_like(log_p), log_p)).sum(-1)
    torch.testing.assert_close(loss.detach(), want, atol=1e-12, rtol=1e-12)
    (g,) = torch.autograd.grad(loss.sum(), z)
    torch.testing.assert_close(g, torch.softmax(z.detach(), -1) * t.sum(-1, keepdim=True) - t,
                               atol=1e-12, rtol=1e-12)


def test_soft_cross_entropy_gradient_reaches_a_target_that_requires_grad(gen):
    z = rand(3, 4, gen=gen).requires_grad_()
    t = torch.softmax(rand(3, 4, gen=gen), -1).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: companion.cross_entropy(a, b), (z, t))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_cross_entropy_empty_batch(reduction):
    z = torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    out = companion.cross_entropy(z, torch.zeros(0, 3, dtype=torch.float64), reduction=reduction)
    out.sum().backward()
    assert out.shape == ((0,) if reduction == "none" else ()) and out.sum().item() == 0.0
    assert z.grad.shape == (0, 3)


# ------------------------------------------------- Jensen-Shannon: 0.5 p (log(p/m) - KL(p||m))

def _js_logaddexp(a, b, dim):
    """An independent float64 composition: m from logaddexp, autograd for the gradient."""
    la, lb = torch.log_softmax(a, dim), torch.log_softmax(b, dim)
    m = torch.logaddexp(la, lb) - math.log(2.0)
    return 0.5 * ((la.exp() * (la - m)).sum(dim) + (lb.exp() * (lb - m)).sum(dim))


@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("which", ["both", "p", "q"])
def test_js_divergence_closed_form_gradient_matches_a_composition(dim, which, gen):
    a = rand(4, 5, 3, gen=gen, scale=2.0).requires_grad_(which in ("both", "p"))
    b = rand(4, 5, 3, gen=gen, scale=2.0).requires_grad_(which in ("both", "q"))
    ours, theirs = companion.js_divergence(a, b, dim=dim), _js_logaddexp(a, b, dim)
    torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-10)
    go = torch.linspace(0.5, 1.5, ours.numel(), dtype=ours.dtype).reshape(ours.shape)
    wanted = [t for t in (a, b) if t.requires_grad]
    for g1, g2 in zip(torch.autograd.grad(ours, wanted, go), torch.autograd.grad(theirs, wanted, go)):
        torch.testing.assert_close(g1, g2, atol=1e-12, rtol=1e-10)


def test_js_divergence_masked_classes_and_identical_inputs(gen):
    a = rand(3, 4, gen=gen)
    b = rand(3, 4, gen=gen)
    a[0, 1] = -float("inf")                       # p has no mass on a class q has
    a[1, 2] = b[1, 2] = -float("inf")             # neither has mass
    a.requires_grad_(), b.requires_grad_()
    js = companion.js_divergence(a, b)
    want = _js_logaddexp(a.detach().masked_fill(torch.isinf(a.detach()), -1e300),
                         b.detach().masked_fill(torch.isinf(b.detach()), -1e300), -1)
    torch.testing.assert_close(js.detach(), want, atol=1e-12, rtol=1e-10)
    ga, gb = torch.autograd.grad(js.sum(), (a, b))
    assert torch.isfinite(ga).all() and torch.isfinite(gb).all()
    assert ga[0, 1] == 0 and ga[1, 2] == 0 and gb[1, 2] == 0
    z = rand(2, 6, gen=gen, scale=30.0).requires_grad_()
    same = companion.js_divergence(z, z)
    assert torch.equal(same.detach(), torch.zeros(2, dtype=z.dtype))
    assert torch.equal(torch.autograd.grad(same.sum(), z)[0], torch.zeros_like(z))


# ------------------------------------------------------- KL: p (log p - log q - KL) and q - p

@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("which", ["both", "p", "q"])
def test_kl_divergence_closed_form_gradient_matches_f_kl_div(dim, which, gen):
    a = rand(4, 5, 3, gen=gen, scale=2.0).requires_grad_(which in ("both", "p"))
    b = rand(4, 5, 3, gen=gen, scale=2.0).requires_grad_(which in ("both", "q"))
    ours = companion.kl_divergence(a, b, dim=dim)
    theirs = F.kl_div(torch.log_softmax(b, dim), torch.log_softmax(a, dim), reduction="none",
                      log_target=True).sum(dim)
    torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-10)
    go = torch.linspace(0.5, 1.5, ours.numel(), dtype=ours.dtype).reshape(ours.shape)
    wanted = [t for t in (a, b) if t.requires_grad]
    for g1, g2 in zip(torch.autograd.grad(ours, wanted, go), torch.autograd.grad(theirs, wanted, go)):
        torch.testing.assert_close(g1, g2, atol=1e-12, rtol=1e-10)
    fn = lambda x, y: companion.kl_divergence(x, y, dim=dim)  # noqa: E731
    assert torch.autograd.gradgradcheck(fn, (a, b))


def test_kl_divergence_backward_twice_through_a_retained_graph(gen):
    # backward writes the gradients over the parts forward kept; a second backward through
    # the retained graph recomputes them, and neither gradient changes the other
    a = rand(5, 6, gen=gen, scale=2.0).requires_grad_()
    b = rand(5, 6, gen=gen, scale=2.0).requires_grad_()
    ours = companion.kl_divergence(a, b)
    theirs = F.kl_div(torch.log_softmax(b, -1), torch.log_softmax(a, -1), reduction="none",
                      log_target=True).sum(-1)
    go = torch.linspace(0.5, 1.5, 5, dtype=ours.dtype)
    first = torch.autograd.grad(ours, (a, b), go, retain_graph=True)
    kept = [g.clone() for g in first]
    second = torch.autograd.grad(ours, (a, b), 2 * go, retain_graph=True)
    want = torch.autograd.grad(theirs, (a, b), go)
    for g1, g2, k, w in zip(first, second, kept, want):
        torch.testing.assert_close(g1, w, atol=1e-12, rtol=1e-10)
        torch.testing.assert_close(g2, 2 * w, atol=1e-12, rtol=1e-10)
        assert torch.equal(g1, k)


def test_kl_divergence_class_without_p_mass(gen):
    a, b = rand(3, 4, gen=gen), rand(3, 4, gen=gen)
    a[0, 1] = -float("inf")                   # p has no mass where q has some: contributes 0
    a[1, 2] = b[1, 2] = -float("inf")         # neither has mass: 0, not NaN
    a.requires_grad_(), b.requires_grad_()
    kl = companion.kl_divergence(a, b)
    ga, gb = torch.autograd.grad(kl.sum(), (a, b))
    assert torch.isfinite(kl).all() and torch.isfinite(ga).all() and torch.isfinite(gb).all()
    assert ga[0, 1] == 0 and ga[1, 2] == 0
    q = torch.softmax(b.detach(), -1)
    p = torch.softmax(a.detach(), -1)
    torch.testing.assert_close(gb, q - p, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (7, 3), (2, 3, 5)])
def test_row_dot_over_blocks_matches_float64(shape, monkeypatch):
    """The blocked row-wise dot product: several blocks, a last short one, empty shapes,
    a non-contiguous input; the inputs are left as they were."""
    from companion import core
    monkeypatch.setattr(core, "_DOT_BLOCK", 4)  # blocks of 1 row at k = 3, 5; many blocks
    g = torch.Generator().manual_seed(0)
    a = torch.randn(*shape, generator=g)
    b = torch.randn(*reversed(shape), generator=g).transpose(0, -1)  # non-contiguous
    a0, b0 = a.clone(), b.clone()
    got = core._dot(a, b, -1)
    want = (a.double() * b.double()).sum(-1)
    assert got.shape == want.shape and got.dtype == torch.float32
    torch.testing.assert_close(got.double(), want, rtol=1e-6, atol=1e-6)
    assert torch.equal(a, a0) and torch.equal(b, b0)
