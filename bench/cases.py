"""The benchmark cases: each companion kernel beside the peer a user would otherwise pick.

A case builds seeded float32 inputs for a size and offers one forward+backward closure per
implementation. A closure returns the loss (or None where there is no single number, as for
Dawid-Skene), so that the driver can check that the implementations agree before it times
them. ``peer`` is the implementation the ratios are taken against (the first row of a
table); ``agree`` are the implementations whose losses must match ``reference`` (by default
all of them and the peer). Peers from optional packages (crowd-kit, kornia, torchvision,
pytorch-metric-learning: ``bench/requirements.txt``) are left out, with a note, when the
package is not installed; the package's own requirements never include them.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import companion
from companion.distributed import vocab_parallel_cross_entropy
from companion.lm import _vocab_tiles

#: optional peers: import name -> distribution name
OPTIONAL = {"crowdkit": "crowd-kit", "kornia": "kornia",
            "pytorch_metric_learning": "pytorch-metric-learning"}
_MODULES: dict = {}


def optional(module: str):
    """The optional peer package ``module``, or None when it is not installed."""
    if module not in _MODULES:
        try:
            _MODULES[module] = importlib.import_module(module)
        except ImportError:
            _MODULES[module] = None
    return _MODULES[module]


def peer_versions() -> dict:
    """Versions of torch and of every optional peer (None: not installed)."""
    out = {"torch": torch.__version__, "numpy": np.__version__}
    for dist in OPTIONAL.values():
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _step(loss_fn, *params):
    """A forward+backward closure: clear the gradients, compute the loss, backpropagate."""
    def run():
        for p in params:
            p.grad = None
        loss = loss_fn()
        if loss.dim():
            loss = loss.sum()
        loss.backward()
        return loss.detach()
    return run


class Case:
    """A kernel, its peers and seeded inputs built per size."""

    name = ""
    title = ""
    peer = "torch"
    reference = None        # whose loss the others must match (default: the peer)
    agree = None            # which implementations must match it (default: all)
    full: dict = {}
    smoke: dict = {}
    repeats = None          # rounds for this case in the full run (default: --repeats)
    memory_impls = None     # implementations whose peak memory is measured (default: all
                            # but time_only(); each in a fresh process)

    def __init__(self, **size):
        self.size = size
        self.notes: list[str] = []

    def impls(self) -> dict:
        raise NotImplementedError

    def time_only(self) -> set:
        """Implementations whose memory is not measured (reference floors)."""
        return set()

    def verify(self) -> dict:
        """Checks beyond the loss values, run once after timing (numbers for the report)."""
        return {}

    def _missing(self, dist):
        self.notes.append(f"{dist} is not installed: its row is left out "
                          "(pip install -r bench/requirements.txt)")


def _logits(n, k, seed=0, scale=1.0):
    g = _gen(seed)
    z = (scale * torch.randn(n, k, generator=g)).requires_grad_()
    y = torch.randint(k, (n,), generator=g)
    return z, y


# ------------------------------------------------------------------------ linear cross-entropy

class LinearCE(Case):
    name = "linear_ce"
    title = "Linear cross-entropy, N={n}, H={h}, V={v}, chunk {chunk}"
    peer = "torch_chunked"
    agree = {"companion", "torch_chunked", "naive"}
    full = dict(n=2048, h=256, v=32768, chunk=512)
    smoke = dict(n=96, h=16, v=1000, chunk=32)
    with_naive = True
    with_unchunked_floor = True
    repeats = 11    # its ratios sit within a few percent of the targets; a round is ~10 s

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        n, h, v = size["n"], size["h"], size["v"]
        self.hidden = (torch.randn(n, h, generator=g) / h ** 0.5).requires_grad_()
        self.weight = torch.randn(v, h, generator=g).requires_grad_()
        self.target = torch.randint(v, (n,), generator=g)

    def impls(self):
        hd, w, t, chunk = self.hidden, self.weight, self.target, self.size["chunk"]
        options = nn.LinearCrossEntropyOptions(batch_chunk_size=chunk)
        out = {
            "companion": _step(lambda: companion.chunked_linear_cross_entropy(hd, w, t, chunk_size=chunk), hd, w),
            "torch_chunked": _step(lambda: F.linear_cross_entropy(hd, w, t, options=options), hd, w),
        }
        if self.with_naive:
            out["naive"] = _step(lambda: F.cross_entropy(hd @ w.T, t), hd, w)
        out["floor"] = self._floor()
        out["floor_rowmajor"] = self._floor(layout="rows")
        if _onednn_linear() is not None:
            out["floor_onednn"] = self._floor(onednn=True)
        if self.with_unchunked_floor:
            out["floor_unchunked"] = self._floor(layout="full")
            out["floor_fresh"] = self._floor(fresh=True)
            out["floor_exp"] = self._floor(exp=True)
        return out

    def _floor(self, layout="tiles", fresh=False, exp=False, onednn=False):
        """The three matrix products alone, into preallocated buffers (unless fresh).

        Tiles (the floor): the products the companion performs, in the same row chunks and
        the same layout: a chunk's logits transposed, (V, rows), made and used in the
        vocabulary tiles of ``companion.lm._vocab_tiles``. Rows: the same products in the
        (rows, V) layout that PyTorch's chunked kernel uses, one product each per chunk.
        Full: the row-major products at full size, which a (N, V) buffer would allow.
        Fresh: the floor's products into a chunk buffer and gradients allocated in every
        call, as a function that returns new gradients must: the floor plus the cost of the
        operating system handing over that memory (page faults). Exp: the floor's products
        plus one base-2 exponential of every logit, taken in place while its tile is in
        cache, the least work an exact softmax adds to them (every logit enters the
        log-sum-exp), so no exact method can come in much under it. oneDNN: the floor's
        products, same tiles and buffers, through oneDNN's matrix multiply instead of MKL's
        (PyTorch ships both and uses MKL for float32 products on x86): how much a different
        matrix library alone would move the floor on this machine.
        """
        lin = _onednn_linear() if onednn else None
        h, w = self.hidden.detach(), self.weight.detach()
        n, v = h.shape[0], w.shape[0]
        rows = n if layout == "full" else min(self.size["chunk"], n)
        tiled = layout == "tiles"
        blocks = _vocab_tiles(rows, v) if tiled else None
        shape = (v, rows) if tiled else (rows, v)
        buffers = []

        def run():
            if not buffers:  # allocated on the first (warm-up) call, outside the timed runs
                buffers.extend([torch.empty(shape), torch.randn(shape, generator=_gen(1)) * 1e-3,
                                torch.empty_like(w), torch.empty_like(h)])
            elif fresh:  # all but the stand-in for the logits' gradient, afresh
                buffers[0], buffers[2], buffers[3] = (torch.empty(shape), torch.empty_like(w),
                                                      torch.empty_like(h))
            logits, grad_logits, grad_w, grad_h = buffers
            for start in range(0, n, rows):
                h_c = h[start:start + rows]
                r = h_c.shape[0]
                g_h = grad_h[start:start + rows]
                beta = 0.0 if start == 0 else 1.0
                if not tiled:
                    g_c = grad_logits[:r]
                    torch.mm(h_c, w.T, out=logits[:r])                        # forward logits
                    grad_w.addmm_(g_c.T, h_c, beta=beta)                       # weight gradient
                    torch.mm(g_c, w, out=g_h)                                  # hidden gradient
                    continue
                h_t = h_c.t()
                if lin is not None:  # oneDNN computes x @ m.T into a new tensor: copy or add it
                    h_tc = h_t.contiguous()
                    for lo, hi in blocks:                                      # forward logits
                        logits[lo:hi, :r].copy_(lin(w[lo:hi], h_c))
                    for j, (lo, hi) in enumerate(blocks):
                        g_t = grad_logits[lo:hi, :r]
                        if start == 0:                                         # weight gradient
                            grad_w[lo:hi].copy_(lin(g_t, h_tc))
                        else:
                            grad_w[lo:hi].add_(lin(g_t, h_tc))
                        if j == 0:                                             # hidden gradient
                            g_h.copy_(lin(g_t.t(), w[lo:hi].t()))
                        else:
                            g_h.add_(lin(g_t.t(), w[lo:hi].t()))
                    continue
                for lo, hi in blocks:
                    tile = logits[lo:hi, :r]
                    torch.mm(w[lo:hi], h_t, out=tile)                          # forward logits
                    if exp:
                        tile.exp2_()
                for j, (lo, hi) in enumerate(blocks):
                    g_t = grad_logits[lo:hi, :r]
                    grad_w[lo:hi].addmm_(g_t, h_c, beta=beta)                  # weight gradient
                    if j == 0:                                                 # hidden gradient
                        torch.mm(g_t.t(), w[lo:hi], out=g_h)
                    else:
                        g_h.addmm_(g_t.t(), w[lo:hi])
            return None
        return run

    def time_only(self):
        return {"floor", "floor_rowmajor", "floor_unchunked", "floor_fresh", "floor_exp",
                "floor_onednn"}

    def verify(self):
        """Where the time goes, from single passes under the PyTorch profiler.

        The operations' own CPU times, added up by kind, as fractions of the time of the
        matrix products in the same pass (``mm``, ``addmm_``; page faults of fresh buffers
        included): the companion's exponentials and all its other operations, and the
        exponential alone in a pass of the ``floor_exp`` row. Each split comes from one
        call, so a slow moment of the machine stretches all of its parts alike, unlike a
        ratio of two calls timed apart.
        """
        ours = _own_times(self.impls()["companion"])
        products = _products(ours)
        exps = _exps(ours)
        floor_exp = self._floor(exp=True)
        floor_exp()  # allocates its buffers
        bound = _own_times(floor_exp)
        return {"ours_exp_over_products": exps / products,
                "rest_over_products": (sum(ours.values()) - products - exps) / products,
                "exp_over_products": _exps(bound) / _products(bound)}


def _onednn_linear():
    """``f(x, m) = x @ m.T`` through oneDNN (PyTorch's private ``mkldnn::_linear_pointwise``,
    the op its compiler uses for CPU linear layers), or None where this build lacks it."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        op = torch.ops.mkldnn._linear_pointwise
    except (AttributeError, RuntimeError):
        return None
    return lambda x, m: op(x, m, None, "none", [], "")


def _own_times(run) -> dict:
    """Each operation's own CPU time (us) in one call of ``run``, by operation name."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    return {e.key: e.self_cpu_time_total for e in prof.key_averages()}


def _products(own: dict) -> float:
    return sum(v for k, v in own.items() if k in ("aten::mm", "aten::addmm", "aten::addmm_"))


def _exps(own: dict) -> float:
    return sum(v for k, v in own.items() if k in ("aten::exp_", "aten::exp2_"))


class LinearCELlama(LinearCE):
    """A Llama-3-sized vocabulary: one forward+backward is ~3 TFLOP, so three timed rounds."""

    name = "linear_ce_llama"
    full = dict(n=4096, h=1024, v=128256, chunk=512)
    smoke = dict(n=64, h=16, v=2000, chunk=32)
    agree = {"companion", "torch_chunked"}
    with_naive = False            # its (N, V) logits, log-softmax and gradient: 6 GiB
    with_unchunked_floor = False  # needs two (N, V) buffers
    repeats = 3                   # its ratios sit within a few percent of the targets
    memory_impls = {"companion"}  # one child is another ~3 TFLOP pass

    def time_only(self):
        return {"floor", "floor_rowmajor", "floor_onednn"}


# ------------------------------------------------------------------------------ cross-entropy

class CEHard(Case):
    name = "ce_hard"
    title = "Cross-entropy, hard targets, {n} × {k}"
    full = dict(n=2048, k=32000)
    smoke = dict(n=64, k=1000)

    def __init__(self, **size):
        super().__init__(**size)
        self.logits, self.target = _logits(size["n"], size["k"])

    def impls(self):
        z, y = self.logits, self.target
        return {"companion": _step(lambda: companion.cross_entropy(z, y), z),
                "torch": _step(lambda: F.cross_entropy(z, y), z)}


class CESoft(CEHard):
    name = "ce_soft"
    title = "Cross-entropy, soft targets, {n} × {k}"

    def __init__(self, **size):
        super().__init__(**size)
        self.soft = torch.softmax(3 * torch.randn(size["n"], size["k"], generator=_gen(1)), -1)

    def impls(self):
        z, p = self.logits, self.soft
        return {"companion": _step(lambda: companion.cross_entropy(z, p), z),
                "torch": _step(lambda: F.cross_entropy(z, p), z)}


class CESmoothing(CEHard):
    name = "ce_smoothing"
    title = "Cross-entropy with label smoothing {smoothing}, {n} × {k}"
    full = dict(n=2048, k=32000, smoothing=0.1)
    smoke = dict(n=64, k=1000, smoothing=0.1)

    def impls(self):
        z, y, eps = self.logits, self.target, self.size["smoothing"]
        return {"companion": _step(lambda: companion.cross_entropy(z, y, label_smoothing=eps), z),
                "torch": _step(lambda: F.cross_entropy(z, y, label_smoothing=eps), z)}


class CEWeighted(CEHard):
    name = "ce_weighted"
    title = "Cross-entropy with class weights, {n} × {k}"

    def __init__(self, **size):
        super().__init__(**size)
        self.weight = torch.rand(size["k"], generator=_gen(2)) + 0.5

    def impls(self):
        z, y, w = self.logits, self.target, self.weight
        return {"companion": _step(lambda: companion.cross_entropy(z, y, weight=w), z),
                "torch": _step(lambda: F.cross_entropy(z, y, weight=w), z)}


class VocabParallelCE(CEHard):
    name = "vocab_parallel_ce"
    title = "vocab_parallel_cross_entropy, one process, {n} × {k}"

    def impls(self):
        z, y = self.logits, self.target
        return {"companion": _step(lambda: vocab_parallel_cross_entropy(z, y), z),
                "torch": _step(lambda: F.cross_entropy(z, y), z)}


class VocabParallelRank(Case):
    """One rank of a vocabulary-parallel output layer, against gathering the logits there.

    Rank r of R holds an (N, V/R) slice of the logits. ``companion`` is what that rank does
    with ``vocab_parallel_cross_entropy``: its slice only (in one process the three
    all-reduces of N numbers each are no-ops, so the rank's own work and memory are measured).
    ``gather`` is the alternative: the rank all-gathers the other R - 1 slices (given here as
    inputs, as received buffers would be), forms the (N, V) logits and calls F.cross_entropy,
    backpropagating into its own slice. The two compute different losses (a slice's vs the
    full vocabulary's), so no agreement is checked; what is compared is the cost per rank.
    """
    name = "vocab_parallel_rank"
    title = "Vocabulary-parallel, one of R={world} ranks: N={n}, V={v}"
    peer = "gather"
    agree: set = set()
    full = dict(n=2048, v=128256, world=8)
    smoke = dict(n=64, v=1000, world=4)
    repeats = 3

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        n, v, world = size["n"], size["v"], size["world"]
        local = -(-v // world)
        self.local = torch.randn(n, local, generator=g).requires_grad_()
        self.others = [torch.randn(n, local, generator=g) for _ in range(world - 1)]
        self.target_local = torch.randint(local, (n,), generator=g)
        self.target_global = torch.randint(local * world, (n,), generator=g)

    def impls(self):
        z, others = self.local, self.others
        y_local, y_global = self.target_local, self.target_global
        return {
            "companion": _step(lambda: vocab_parallel_cross_entropy(z, y_local), z),
            "gather": _step(lambda: F.cross_entropy(torch.cat([z, *others], dim=1), y_global),
                            z),
        }


class LogitAdjusted(CEHard):
    name = "logit_adjusted_ce"
    title = "Logit-adjusted cross-entropy (τ = 1), {n} × {k}"
    peer = "composed"
    full = dict(n=4096, k=1000)

    def __init__(self, **size):
        super().__init__(**size)
        counts = torch.arange(1, size["k"] + 1, dtype=torch.float32) ** -1.0
        self.priors = counts / counts.sum()

    def impls(self):
        z, y, pr = self.logits, self.target, self.priors
        log_pr = pr.log()
        return {"companion": _step(lambda: companion.logit_adjusted_cross_entropy(z, y, pr), z),
                "composed": _step(lambda: F.cross_entropy(z + log_pr, y), z)}


# ------------------------------------------------------------------------------ focal losses

def _focal_composed(z, y, gamma):
    """Softmax focal loss written with torch ops: -(1 - p_y)^γ log p_y, averaged."""
    lp = F.log_softmax(z, -1).gather(-1, y[:, None]).squeeze(-1)
    return (-(1 - lp.exp()) ** gamma * lp).mean()


class Focal(Case):
    name = "focal"
    title = "Softmax focal loss (γ = {gamma}), {n} × {k}"
    peer = "torch_ce"
    reference = "composed"
    agree = {"companion", "composed", "kornia"}
    full = dict(n=4096, k=1000, gamma=2.0)
    smoke = dict(n=64, k=100, gamma=2.0)

    def __init__(self, **size):
        super().__init__(**size)
        self.logits, self.target = _logits(size["n"], size["k"])

    def impls(self):
        z, y, gamma = self.logits, self.target, self.size["gamma"]
        out = {"companion": _step(lambda: companion.focal_loss(z, y, gamma=gamma), z),
               "torch_ce": _step(lambda: F.cross_entropy(z, y), z),
               "composed": _step(lambda: _focal_composed(z, y, gamma), z)}
        kornia = optional("kornia")
        if kornia is None:
            self._missing("kornia")
        else:
            # kornia's "mean" averages over all N × K entries (zeros included): sum / N instead
            n = z.shape[0]
            out["kornia"] = _step(lambda: kornia.losses.focal_loss(z, y, alpha=None, gamma=gamma,
                                                                   reduction="sum") / n, z)
        return out


class FocalLargeK(Focal):
    name = "focal_32k"
    full = dict(n=2048, k=32000, gamma=2.0)
    smoke = dict(n=32, k=1000, gamma=2.0)


def _torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss (reduction="mean"), written out."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean()


class _BinaryCase(Case):
    """n logits of scale 3 and hard targets with 10% positives, shared by the binary cases."""

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        self.logits = (3.0 * torch.randn(size["n"], generator=g)).requires_grad_()
        self.target = (torch.rand(size["n"], generator=g) < 0.1).float()


class BinaryFocal(_BinaryCase):
    name = "binary_focal"
    title = "Binary focal loss, {n:,} elements, γ={gamma}, α={alpha}"
    peer = "torchvision_formula"
    full = dict(n=2_000_000, gamma=2.0, alpha=0.25)
    smoke = dict(n=20_000, gamma=2.0, alpha=0.25)

    def impls(self):
        z, y, gamma, alpha = self.logits, self.target, self.size["gamma"], self.size["alpha"]
        # torchvision's own function is not imported: its PyPI wheel does not load against the
        # CPU build of torch 2.13 (bench/requirements.txt); the formula is its code, written out
        return {
            "companion": _step(lambda: companion.binary_focal_loss(z, y, gamma=gamma, alpha=alpha), z),
            "torchvision_formula": _step(lambda: _torchvision_sigmoid_focal_loss(z, y, alpha, gamma), z),
        }


class BCE(_BinaryCase):
    name = "bce"
    title = "Binary cross-entropy from logits, {n:,} elements"
    full = dict(n=2_000_000)
    smoke = dict(n=20_000)

    def impls(self):
        z, y = self.logits, self.target
        return {"companion": _step(lambda: companion.binary_cross_entropy(z, y), z),
                "torch": _step(lambda: F.binary_cross_entropy_with_logits(z, y), z)}


class Multilabel(Case):
    name = "multilabel_ce"
    title = "Multi-label cross-entropy, {n} × {k} labels"
    full = dict(n=4096, k=1000)
    smoke = dict(n=64, k=50)

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        self.logits = torch.randn(size["n"], size["k"], generator=g).requires_grad_()
        self.target = (torch.rand(size["n"], size["k"], generator=g) < 0.05).float()

    def impls(self):
        z, y = self.logits, self.target
        return {"companion": _step(lambda: companion.multilabel_cross_entropy(z, y), z),
                "torch": _step(lambda: F.binary_cross_entropy_with_logits(
                    z, y, reduction="none").sum(-1).mean(), z)}


# ------------------------------------------------------------------------------ distillation etc.

class Distillation(Case):
    name = "distillation"
    title = "Distillation loss (T = {t}), {n} × {k}"
    peer = "composed"
    full = dict(n=4096, k=1000, t=4.0)
    smoke = dict(n=64, k=100, t=4.0)

    def __init__(self, **size):
        super().__init__(**size)
        self.student, _ = _logits(size["n"], size["k"])
        self.teacher = 3 * torch.randn(size["n"], size["k"], generator=_gen(1))

    def impls(self):
        s, t, temp = self.student, self.teacher, self.size["t"]
        def composed():
            p_t = torch.softmax(t / temp, -1)
            return -(p_t * F.log_softmax(s / temp, -1)).sum(-1).mean() * temp ** 2
        return {"companion": _step(lambda: companion.distillation_loss(s, t, temperature=temp), s),
                "composed": _step(composed, s)}


class Hierarchical(Case):
    """A two-level tree: G groups of L leaves; the composed form is two log-softmaxes."""

    name = "hierarchical_ce"
    title = "Hierarchical cross-entropy, {n} rows, {groups} groups × {leaves} leaves"
    peer = "composed"
    full = dict(n=4096, groups=32, leaves=32)
    smoke = dict(n=64, groups=4, leaves=5)

    def __init__(self, **size):
        super().__init__(**size)
        n, g_, l_ = size["n"], size["groups"], size["leaves"]
        self.tree = companion.Tree([-1] + [0] * g_ + [1 + j // l_ for j in range(g_ * l_)])
        self.logits, self.target = _logits(n, g_ + g_ * l_)
        self.target = self.target % (g_ * l_)

    def impls(self):
        z, y, tree = self.logits, self.target, self.tree
        g_, l_ = self.size["groups"], self.size["leaves"]

        def composed():
            top = F.log_softmax(z[:, :g_], -1)
            sub = F.log_softmax(z[:, g_:].reshape(-1, g_, l_), -1)
            grp, leaf = y // l_, y % l_
            rows = torch.arange(z.shape[0])
            return -(top[rows, grp] + sub[rows, grp, leaf]).mean()
        return {"companion": _step(lambda: companion.hierarchical_cross_entropy(z, y, tree), z),
                "composed": _step(composed, z)}


def _js_composed(a, b):
    """Jensen-Shannon divergence of two log-probability tensors along the last axis."""
    m = torch.logaddexp(a, b) - math.log(2.0)
    return 0.5 * ((a.exp() * (a - m)).sum(-1) + (b.exp() * (b - m)).sum(-1))


class AdjacentJS(Case):
    name = "adjacent_js"
    title = "Adjacent Jensen-Shannon penalty, {b} × {l} positions × {k} classes"
    peer = "composed"
    full = dict(b=64, l=128, k=256)
    smoke = dict(b=4, l=8, k=10)

    def __init__(self, **size):
        super().__init__(**size)
        self.logits = torch.randn(size["b"], size["l"], size["k"], generator=_gen(0)).requires_grad_()

    def impls(self):
        z = self.logits

        def composed():
            lp = F.log_softmax(z, -1)
            return _js_composed(lp[:, :-1], lp[:, 1:]).mean()
        return {"companion": _step(lambda: companion.adjacent_js_penalty(z), z),
                "composed": _step(composed, z)}


# ------------------------------------------------------------------------------ contrastive

_PML_NOTE = ("pytorch-metric-learning's NTXentLoss forms a (positive pairs) × (negative pairs) "
             "matrix, whose memory grows as N³ (64 GiB at N = 4,096): hence the small batch")


class InfoNCE(Case):
    name = "info_nce"
    title = "InfoNCE with in-batch negatives, {n} pairs, D = {d}, τ = {t}"
    peer = "composed"
    # small, for pytorch-metric-learning: its NTXentLoss forms a (positive pairs) × (negative
    # pairs) matrix, O(N^3) memory (64 GiB at N = 4096)
    full = dict(n=256, d=128, t=0.1)
    smoke = dict(n=32, d=8, t=0.1)

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        self.q = torch.randn(size["n"], size["d"], generator=g).requires_grad_()
        self.k = (self.q.detach() + torch.randn(size["n"], size["d"], generator=g)).requires_grad_()

    def impls(self):
        q, k, t = self.q, self.k, self.size["t"]
        labels = torch.arange(q.shape[0])
        out = {"companion": _step(lambda: companion.info_nce(q, k, temperature=t), q, k),
               "composed": _step(lambda: F.cross_entropy(
                   F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).T / t, labels), q, k)}
        pml = optional("pytorch_metric_learning")
        if pml is None:
            self._missing("pytorch-metric-learning")
        else:
            from pytorch_metric_learning.losses import NTXentLoss
            loss = NTXentLoss(temperature=t)
            self.notes.append(_PML_NOTE)
            ref_labels = labels.clone()  # PML drops the diagonal when the two are one object
            out["pml"] = _step(lambda: loss(q, labels, ref_emb=k, ref_labels=ref_labels), q, k)
        return out


class NTXent(InfoNCE):
    name = "nt_xent"
    title = "NT-Xent (SimCLR), {n} pairs, D = {d}, τ = {t}"
    full = dict(n=128, d=128, t=0.5)
    smoke = dict(n=32, d=8, t=0.5)

    def impls(self):
        z1, z2, t = self.q, self.k, self.size["t"]
        n = z1.shape[0]

        def composed():
            u = F.normalize(torch.cat([z1, z2]), dim=-1)
            s = (u @ u.T / t).fill_diagonal_(-math.inf)
            return F.cross_entropy(s, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))
        out = {"companion": _step(lambda: companion.nt_xent(z1, z2, temperature=t), z1, z2),
               "composed": _step(composed, z1, z2)}
        pml = optional("pytorch_metric_learning")
        if pml is None:
            self._missing("pytorch-metric-learning")
        else:
            from pytorch_metric_learning.losses import NTXentLoss
            self.notes.append(_PML_NOTE)
            loss = NTXentLoss(temperature=t)
            labels = torch.cat([torch.arange(n), torch.arange(n)])
            out["pml"] = _step(lambda: loss(torch.cat([z1, z2]), labels), z1, z2)
        return out


# ------------------------------------------------------------------------------ tabular

class MixedReconstruction(Case):
    name = "mixed_reconstruction"
    title = "Mixed reconstruction loss, {n} rows, {nb} binary + {nr} real + {ng} groups of {gs}"
    peer = "composed"
    full = dict(n=16384, nb=32, nr=32, ng=16, gs=8)
    smoke = dict(n=64, nb=3, nr=3, ng=2, gs=3)

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        n, nb, nr, ng, gs = (size[k] for k in ("n", "nb", "nr", "ng", "gs"))
        binary = (torch.rand(n, nb, generator=g) < 0.3).float()
        real = torch.randn(n, nr, generator=g)
        cats = F.one_hot(torch.randint(gs, (n, ng), generator=g), gs).float().reshape(n, ng * gs)
        self.batch = torch.cat([binary, real, cats], 1)
        self.outputs = torch.randn(n, self.batch.shape[1], generator=g).requires_grad_()
        start = nb + nr
        self.spec = {"binary": list(range(nb)), "continuous": list(range(nb, start)),
                     "categorical": [list(range(start + j * gs, start + (j + 1) * gs)) for j in range(ng)]}

    def impls(self):
        o, x, spec = self.outputs, self.batch, self.spec
        nb, nr, ng, gs = (self.size[k] for k in ("nb", "nr", "ng", "gs"))

        def composed():
            bce = F.binary_cross_entropy_with_logits(o[:, :nb], x[:, :nb], reduction="sum")
            sq = 0.5 * ((o[:, nb:nb + nr] - x[:, nb:nb + nr]) ** 2).sum()
            lz = F.log_softmax(o[:, nb + nr:].reshape(-1, ng, gs), -1)
            ce = -(lz * x[:, nb + nr:].reshape(-1, ng, gs)).sum()
            return (bce + sq + ce) / o.shape[0]

        def ours():
            parts = companion.mixed_reconstruction_loss(o, x, spec)
            return parts["total"] if "total" in parts else sum(parts.values())
        return {"companion": _step(ours, o), "composed": _step(composed, o)}


# ------------------------------------------------------------------------------ information

class Entropy(Case):
    name = "entropy"
    title = "Entropy of {n} × {k} probabilities"
    peer = "composed"
    full = dict(n=4096, k=1000)
    smoke = dict(n=64, k=100)

    def __init__(self, **size):
        super().__init__(**size)
        z = 2 * torch.randn(size["n"], size["k"], generator=_gen(0))
        self.probs = torch.softmax(z, -1).requires_grad_()

    def impls(self):
        p = self.probs
        return {"companion": _step(lambda: companion.entropy(p), p),
                "composed": _step(lambda: -torch.special.xlogy(p, p).sum(-1), p)}


class KL(Case):
    name = "kl"
    title = "KL divergence between two {n} × {k} logit tensors"
    peer = "torch"
    full = dict(n=4096, k=1000)
    smoke = dict(n=64, k=100)

    def __init__(self, **size):
        super().__init__(**size)
        self.p, _ = _logits(size["n"], size["k"], seed=0, scale=2.0)
        self.q, _ = _logits(size["n"], size["k"], seed=1, scale=2.0)

    def impls(self):
        p, q = self.p, self.q
        return {"companion": _step(lambda: companion.kl_divergence(p, q), p, q),
                "torch": _step(lambda: F.kl_div(F.log_softmax(q, -1), F.log_softmax(p, -1),
                                                reduction="none", log_target=True).sum(-1), p, q)}


class JS(KL):
    name = "js"
    title = "Jensen-Shannon divergence between two {n} × {k} logit tensors"
    peer = "composed"

    def impls(self):
        p, q = self.p, self.q
        return {"companion": _step(lambda: companion.js_divergence(p, q), p, q),
                "composed": _step(lambda: _js_composed(F.log_softmax(p, -1), F.log_softmax(q, -1)), p, q)}


# ------------------------------------------------------------------------------ scoring rules

class _ProbCase(Case):
    peer = "composed"
    full = dict(n=4096, k=1000)
    smoke = dict(n=64, k=100)

    def __init__(self, **size):
        super().__init__(**size)
        z, self.target = _logits(size["n"], size["k"], scale=2.0)
        self.probs = torch.softmax(z.detach(), -1).requires_grad_()


class LogScore(_ProbCase):
    name = "log_score"
    title = "Log score of {n} × {k} probabilities"

    def impls(self):
        q, y = self.probs, self.target
        return {"companion": _step(lambda: companion.log_score(q, y), q),
                "composed": _step(lambda: q.gather(-1, y[:, None]).log().squeeze(-1), q)}


class BrierScore(_ProbCase):
    name = "brier_score"
    title = "Brier score of {n} × {k} probabilities"

    def impls(self):
        q, y = self.probs, self.target
        k = q.shape[-1]
        return {"companion": _step(lambda: companion.brier_score(q, y), q),
                "composed": _step(lambda: ((q - F.one_hot(y, k)) ** 2).sum(-1), q)}


class EnergyScore(Case):
    name = "energy_score"
    title = "Energy score (T = 1), {n} × {k} logits"
    peer = "composed"
    full = dict(n=4096, k=1000)
    smoke = dict(n=64, k=100)

    def __init__(self, **size):
        super().__init__(**size)
        self.logits, _ = _logits(size["n"], size["k"])

    def impls(self):
        z = self.logits
        return {"companion": _step(lambda: companion.energy_score(z), z),
                "composed": _step(lambda: -torch.logsumexp(z, -1), z)}


# ------------------------------------------------------------------------------ Dawid-Skene

def crowd_annotations(items, annotators, per_item, k, seed=0, distinct=True):
    """Synthetic long-form annotations: each item labelled by ``per_item`` annotators whose
    accuracies are uniform in [0.45, 0.9], their errors uniform over the other classes."""
    g = _gen(seed)
    truth = torch.randint(k, (items,), generator=g)
    if distinct:
        who = torch.rand(items, annotators, generator=g).argsort(-1)[:, :per_item]
    else:  # at a large scale: independent draws (a repeat is rare and harmless)
        who = torch.randint(annotators, (items, per_item), generator=g)
    acc = 0.45 + 0.45 * torch.rand(annotators, generator=g)
    i = torch.arange(items).repeat_interleave(per_item)
    a = who.reshape(-1)
    correct = torch.rand(i.shape[0], generator=g) < acc[a]
    wrong = (truth[i] + torch.randint(1, k, i.shape, generator=g)) % k
    labels = torch.where(correct, truth[i], wrong)
    return i, a, labels, truth


def dawid_skene_float64(i, a, lab, n, n_annot, k, iters):
    """Dawid-Skene EM in float64 NumPy, long form (bincount per class): the same update order
    as the kernel (majority-vote start; M-step, then E-step) with a fixed number of
    iterations. Returns (posteriors, log-likelihood after the last iteration)."""
    i, a, lab = (np.asarray(x, dtype=np.int64) for x in (i, a, lab))
    tiny = np.finfo(np.float64).tiny
    votes = np.zeros((n, k))
    np.add.at(votes, (i, lab), 1.0)
    tot = votes.sum(1, keepdims=True)
    T = np.where(tot > 0, votes / np.maximum(tot, 1), 1.0 / k)
    cell = a * k + lab
    ll = -math.inf
    for _ in range(iters):
        priors = T.sum(0) / n
        conf = np.stack([np.bincount(cell, weights=T[i, c], minlength=n_annot * k).reshape(n_annot, k)
                         for c in range(k)], 1)                                   # (A, K, K)
        rows = conf.sum(-1, keepdims=True)
        conf = np.where(rows > 0, conf / np.where(rows > 0, rows, 1.0), 1.0 / k)
        log_conf = np.log(np.maximum(conf, tiny))
        log_joint = np.log(np.maximum(priors, tiny))[None, :] + np.stack(
            [np.bincount(i, weights=log_conf[a, c, lab], minlength=n) for c in range(k)], 1)
        m = log_joint.max(1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(log_joint - m).sum(1))
        ll = float(lse.sum())
        T = np.exp(log_joint - lse[:, None])
    return T, ll


class DawidSkene(Case):
    name = "dawid_skene"
    title = ("Dawid-Skene EM, {items:,} items, {annotators:,} annotators, {per_item} labels per "
             "item, K = {k}, {iters} iterations")
    peer = "crowdkit"
    full = dict(items=20_000, annotators=100, per_item=5, k=5, iters=50)
    smoke = dict(items=60, annotators=8, per_item=3, k=3, iters=5)
    distinct = True

    def __init__(self, **size):
        super().__init__(**size)
        s = size
        self.i, self.a, self.labels, self.truth = crowd_annotations(
            s["items"], s["annotators"], s["per_item"], s["k"], distinct=self.distinct)
        self.results = {}

    def impls(self):
        s = self.size
        i, a, lab = self.i, self.a, self.labels

        def ours():
            self.results["companion"] = companion.dawid_skene(
                items=i, annotators=a, labels=lab, num_classes=s["k"], num_items=s["items"],
                num_annotators=s["annotators"], max_iter=s["iters"], tol=0.0)
            return None
        out = {"companion": ours}
        if self.peer != "crowdkit":  # the scale case: the companion alone
            return out
        crowdkit = optional("crowdkit")
        if crowdkit is None:
            self._missing("crowd-kit")
        else:
            import pandas as pd
            from crowdkit.aggregation import DawidSkene as CKDawidSkene
            df = pd.DataFrame({"task": i.numpy(), "worker": a.numpy(), "label": lab.numpy()})

            def theirs():
                self.results["crowdkit"] = CKDawidSkene(n_iter=s["iters"], tol=0.0).fit(df)
                return None
            out["crowdkit"] = theirs
        return out

    def verify(self):
        s = self.size
        ours = self.results.get("companion")
        if ours is None:
            ours = self.impls()["companion"]() or self.results["companion"]
        post64, ll64 = dawid_skene_float64(self.i, self.a, self.labels, s["items"],
                                           s["annotators"], s["k"], s["iters"])
        mine = ours.posteriors.argmax(-1).numpy()
        out = {"loglik_rel_err": abs(ours.log_likelihood - ll64) / abs(ll64),
               "agree_float64_reference": float((mine == post64.argmax(-1)).mean()),
               "accuracy_vs_truth": float((mine == self.truth.numpy()).mean())}
        ck = self.results.get("crowdkit")
        if ck is not None:
            probas = ck.probas_.reindex(index=range(s["items"]), columns=range(s["k"])).fillna(0)
            theirs = probas.to_numpy().argmax(-1)
            out["agree_crowdkit"] = float((mine == theirs).mean())
            out["max_abs_posterior_diff_crowdkit"] = float(
                np.abs(probas.to_numpy() - ours.posteriors.double().numpy()).max())
        return out


class DawidSkeneScale(DawidSkene):
    """A million annotations: the long form's O(nnz · K) per iteration; companion alone."""

    name = "dawid_skene_1m"
    peer = "companion"
    full = dict(items=200_000, annotators=5_000, per_item=5, k=5, iters=50)
    smoke = dict(items=100, annotators=20, per_item=3, k=3, iters=5)
    distinct = False
    repeats = 1

    def verify(self):
        return {}


CASE_LIST = (LinearCE, LinearCELlama, CEHard, CESoft, CESmoothing, CEWeighted, VocabParallelCE,
             VocabParallelRank,
             LogitAdjusted, Focal, FocalLargeK, BinaryFocal, BCE, Multilabel, Distillation,
             Hierarchical, AdjacentJS, InfoNCE, NTXent, MixedReconstruction, Entropy, KL, JS,
             LogScore, BrierScore, EnergyScore, DawidSkene, DawidSkeneScale)
CASES = {c.name: c for c in CASE_LIST}

#: the peer each case's ratios are taken against
PEER = {c.name: c.peer for c in CASE_LIST}

#: sizes of the full run and of the smoke run (a few seconds, run by `make test`)
SIZES = {
    "full": {c.name: c.full for c in CASE_LIST},
    "smoke": {c.name: c.smoke for c in CASE_LIST},
}
SIZES["full"]["scaling"] = dict(n=1024, h=256, chunk=512, vocab=[8192, 16384, 32768, 65536, 131072])
SIZES["smoke"]["scaling"] = dict(n=64, h=16, chunk=32, vocab=[512, 1024])
SIZES["full"]["scaling_n"] = dict(v=32768, h=256, chunk=512, rows=[512, 1024, 2048, 4096])
SIZES["smoke"]["scaling_n"] = dict(v=512, h=16, chunk=32, rows=[32, 64])

#: (description, case, kind, numerator, denominator, threshold): the targets of the issue.
#: kind "time"/"peak": numerator / denominator <= threshold; "seconds"/"gib": the numerator's
#: time in s / peak memory in GiB <= threshold; "check_min"/"check_max": a number from the
#: case's verify() (named by numerator) >= / <= threshold.
TARGETS = [
    ("linear CE peak memory vs torch chunked", "linear_ce", "peak", "companion", "torch_chunked", 1.0),
    ("vocabulary-parallel peak memory per rank vs gathering the logits", "vocab_parallel_rank", "peak", "companion", "gather", 0.25),
    ("linear CE peak memory vs naive", "linear_ce", "peak", "companion", "naive", 0.25),
    ("linear CE time vs torch chunked", "linear_ce", "time", "companion", "torch_chunked", 0.90),
    ("linear CE time vs its three matrix products", "linear_ce", "time", "companion", "floor", 1.05),
    ("linear CE (V=128,256) time vs torch chunked", "linear_ce_llama", "time", "companion", "torch_chunked", 0.90),
    ("linear CE (V=128,256) time vs its three matrix products", "linear_ce_llama", "time", "companion", "floor", 1.05),
    ("focal loss (4096 × 1000) time vs F.cross_entropy", "focal", "time", "companion", "torch_ce", 1.25),
    ("focal loss (2048 × 32000) time vs F.cross_entropy", "focal_32k", "time", "companion", "torch_ce", 1.25),
    ("binary focal time vs torchvision formula", "binary_focal", "time", "companion", "torchvision_formula", 0.5),
    ("binary cross-entropy time vs F.binary_cross_entropy_with_logits", "bce", "time", "companion", "torch", 1.05),
    ("cross-entropy with label smoothing time vs F.cross_entropy", "ce_smoothing", "time", "companion", "torch", 1.05),
    ("Dawid-Skene time vs crowd-kit", "dawid_skene", "time", "companion", "crowdkit", 0.25),
    ("Dawid-Skene argmax agreement with crowd-kit", "dawid_skene", "check_min", "agree_crowdkit", None, 0.995),
    ("Dawid-Skene log-likelihood, relative error vs float64", "dawid_skene", "check_max", "loglik_rel_err", None, 1e-6),
    ("Dawid-Skene, 1,000,000 annotations, 50 iterations: time (s)", "dawid_skene_1m", "seconds", "companion", None, 30.0),
    ("Dawid-Skene, 1,000,000 annotations: peak memory (GiB)", "dawid_skene_1m", "gib", "companion", None, 1.0),
]
