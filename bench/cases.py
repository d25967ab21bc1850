"""The benchmark cases: each companion kernel beside the peer a user would otherwise pick.

A case builds seeded float32 inputs for a size and offers one forward+backward closure per
implementation. Every closure returns the loss, so that the driver can check that the
implementations agree before it times them.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

import companion

#: sizes of the full run and of the smoke run (a few seconds, run by `make test`)
SIZES = {
    "full": {
        "linear_ce": dict(n=2048, h=256, v=32768, chunk=512),
        "binary_focal": dict(n=2_000_000, gamma=2.0, alpha=0.25),
        "bce": dict(n=2_000_000),
        "ce_smoothing": dict(n=2048, k=32000, smoothing=0.1),
        "ce_weighted": dict(n=2048, k=32000),
        "scaling": dict(n=1024, h=256, chunk=512, vocab=[8192, 16384, 32768, 65536, 131072]),
    },
    "smoke": {
        "linear_ce": dict(n=96, h=16, v=1000, chunk=32),
        "binary_focal": dict(n=20_000, gamma=2.0, alpha=0.25),
        "bce": dict(n=20_000),
        "ce_smoothing": dict(n=64, k=1000, smoothing=0.1),
        "ce_weighted": dict(n=64, k=1000),
        "scaling": dict(n=64, h=16, chunk=32, vocab=[512, 1024]),
    },
}


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


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


def _step(loss_fn, *params):
    """A forward+backward closure: clear the gradients, compute the loss, backpropagate."""
    def run():
        for p in params:
            p.grad = None
        loss = loss_fn()
        loss.backward()
        return loss.detach()
    return run


class Case:
    """name, the implementation that is ours, the peers, and inputs built per size."""

    name = ""
    ours = "companion"

    def __init__(self, **size):
        self.size = size

    def impls(self) -> dict:
        raise NotImplementedError

    def time_only(self) -> set:
        """Implementations whose memory is not measured (reference floors)."""
        return set()


class LinearCE(Case):
    name = "linear_ce"

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
            "naive": _step(lambda: F.cross_entropy(hd @ w.T, t), hd, w),
        }
        out["floor"] = self._floor(chunked=True)
        out["floor_unchunked"] = self._floor(chunked=False)
        return out

    def _floor(self, chunked):
        """The three matrix products alone, into preallocated buffers.

        Chunked: the products the companion performs, in the same row chunks (its floor).
        Unchunked: the same products at full size, which a (N, V) buffer would allow.
        """
        h, w = self.hidden.detach(), self.weight.detach()
        n, v = h.shape[0], w.shape[0]
        rows = self.size["chunk"] if chunked else n
        buffers = []

        def run():
            if not buffers:  # allocated on the first (warm-up) call, outside the timed runs
                buffers.extend([torch.empty(rows, v), torch.randn(rows, v, generator=_gen(1)) * 1e-3,
                                torch.empty_like(w), torch.empty_like(h)])
            logits, grad_logits, grad_w, grad_h = buffers
            for start in range(0, n, rows):
                h_c = h[start:start + rows]
                g_c = grad_logits[: h_c.shape[0]]
                torch.mm(h_c, w.T, out=logits[: h_c.shape[0]])                 # forward logits
                grad_w.addmm_(g_c.T, h_c, beta=0.0 if start == 0 else 1.0)      # weight gradient
                torch.mm(g_c, w, out=grad_h[start:start + rows])               # hidden gradient
            return None
        return run

    def time_only(self):
        return {"floor", "floor_unchunked"}


class _BinaryCase(Case):
    """n logits of scale 3 and hard targets with 10% positives, shared by the binary cases."""

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        self.logits = (3.0 * torch.randn(size["n"], generator=g)).requires_grad_()
        self.target = (torch.rand(size["n"], generator=g) < 0.1).float()


class BinaryFocal(_BinaryCase):
    name = "binary_focal"

    def impls(self):
        z, y, gamma, alpha = self.logits, self.target, self.size["gamma"], self.size["alpha"]
        return {
            "companion": _step(lambda: companion.binary_focal_loss(z, y, gamma=gamma, alpha=alpha), z),
            "torchvision_formula": _step(lambda: _torchvision_sigmoid_focal_loss(z, y, alpha, gamma), z),
        }


class BCE(_BinaryCase):
    name = "bce"

    def impls(self):
        z, y = self.logits, self.target
        return {
            "companion": _step(lambda: companion.binary_cross_entropy(z, y), z),
            "torch": _step(lambda: F.binary_cross_entropy_with_logits(z, y), z),
        }


class CESmoothing(Case):
    name = "ce_smoothing"

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        self.logits = torch.randn(size["n"], size["k"], generator=g).requires_grad_()
        self.target = torch.randint(size["k"], (size["n"],), generator=g)

    def impls(self):
        z, y, eps = self.logits, self.target, self.size["smoothing"]
        return {
            "companion": _step(lambda: companion.cross_entropy(z, y, label_smoothing=eps), z),
            "torch": _step(lambda: F.cross_entropy(z, y, label_smoothing=eps), z),
        }


class CEWeighted(Case):
    name = "ce_weighted"

    def __init__(self, **size):
        super().__init__(**size)
        g = _gen(0)
        self.logits = torch.randn(size["n"], size["k"], generator=g).requires_grad_()
        self.target = torch.randint(size["k"], (size["n"],), generator=g)
        self.weight = torch.rand(size["k"], generator=g) + 0.5

    def impls(self):
        z, y, w = self.logits, self.target, self.weight
        return {
            "companion": _step(lambda: companion.cross_entropy(z, y, weight=w), z),
            "torch": _step(lambda: F.cross_entropy(z, y, weight=w), z),
        }


CASES = {c.name: c for c in (LinearCE, BinaryFocal, BCE, CESmoothing, CEWeighted)}

#: the peer each case's ratios are taken against
PEER = {"linear_ce": "torch_chunked", "binary_focal": "torchvision_formula", "bce": "torch",
        "ce_smoothing": "torch", "ce_weighted": "torch"}

#: (description, case, quantity, numerator, denominator, threshold): the targets of the issue
TARGETS = [
    ("linear CE peak memory vs torch chunked", "linear_ce", "peak", "companion", "torch_chunked", 1.0),
    ("linear CE peak memory vs naive", "linear_ce", "peak", "companion", "naive", 0.25),
    ("linear CE time vs torch chunked (warm)", "linear_ce", "time", "companion", "torch_chunked", 1.0),
    ("linear CE time vs its three matrix products", "linear_ce", "time", "companion", "floor", 1.1),
    ("binary focal time vs torchvision formula", "binary_focal", "time", "companion", "torchvision_formula", 0.5),
    ("cross-entropy with label smoothing time vs F.cross_entropy", "ce_smoothing", "time", "companion", "torch", 1.05),
]
