"""Arithmetic coding and Huffman code lengths (companion.coding)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from companion.coding import (ArithmeticDecoder, ArithmeticEncoder, arithmetic_decode,
                              arithmetic_encode, huffman_code_lengths, quantize_probs)
from companion.reference import _coding as R

from conftest import DEVICES, rand, snapshot

DTYPES = [torch.float64, torch.float32, torch.bfloat16, torch.float16]


def _probs(gen, *shape, scale=3.0):
    return torch.softmax(rand(*shape, gen=gen, scale=scale), -1)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_quantize_matches_reference(dtype, device, gen):
    p = _probs(gen, 3, 17, 5).to(dtype)
    p = (p.double() / p.double().sum(-1, keepdim=True)).to(dtype).to(device)
    before = snapshot(p)
    got = quantize_probs(p, total_bits=12)
    want = R.quantize_probs(p.double().cpu().numpy(), total_bits=12)
    assert got.dtype == torch.int64 and got.device == p.device
    np.testing.assert_array_equal(got.cpu().numpy(), want)
    assert bool((got.sum(-1) == 4096).all()) and bool((got >= 1).all())
    torch.testing.assert_close(p, before[0], rtol=0, atol=0)


def test_quantize_is_close_to_the_probabilities(gen):
    p = _probs(gen, 200, 6)
    f = quantize_probs(p)
    # the counts are within K of p * T, so the relative error shrinks with T
    assert ((f.double() / 2 ** 16 - p).abs() <= 6 / 2 ** 16).all()
    # a zero probability keeps one count: every outcome stays encodable
    assert quantize_probs(torch.tensor([1.0, 0.0]), total_bits=8).tolist() == [255, 1]


def test_quantize_errors():
    with pytest.raises(TypeError, match="probs must be a floating"):
        quantize_probs(torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="sum to 1"):
        quantize_probs(torch.tensor([0.5, 0.2]))
    with pytest.raises(ValueError, match="non-negative"):
        quantize_probs(torch.tensor([1.5, -0.5]))
    with pytest.raises(ValueError, match="finite"):
        quantize_probs(torch.tensor([float("nan"), 1.0]))
    with pytest.raises(ValueError, match="total_bits"):
        quantize_probs(torch.full((5,), 0.2), total_bits=2)
    with pytest.raises(ValueError, match="total_bits"):
        quantize_probs(torch.full((5,), 0.2), total_bits=31)
    with pytest.raises(ValueError, match="class axis"):
        quantize_probs(torch.tensor(1.0))


@pytest.mark.parametrize("per_symbol", [False, True])
def test_round_trip_is_exact_and_length_near_ideal(per_symbol, gen):
    n, k = 3000, 5
    p = _probs(gen, n, k) if per_symbol else _probs(gen, k, scale=1.0)
    rows = p if per_symbol else p.expand(n, k)
    y = torch.multinomial(rows, 1, generator=gen).squeeze(1)
    f = quantize_probs(p)
    before = snapshot(y, f)
    data, n_bits = arithmetic_encode(y, f)
    assert len(data) == math.ceil(n_bits / 8)
    assert torch.equal(arithmetic_decode(data, n_bits, f, n), y)
    fq = f if per_symbol else f.expand(n, k)
    ideal = -torch.log2(fq[torch.arange(n), y].double() / 2 ** 16).sum().item()
    assert ideal - 1e-6 <= n_bits <= ideal + 2 + 1e-3
    assert torch.equal(y, before[0]) and torch.equal(f, before[1])


def test_extreme_probabilities_round_trip(gen):
    # near-certain symbols, then a run of the improbable one: pending bits pile up
    p = torch.tensor([1 - 1e-6, 1e-6])
    f = quantize_probs(p, total_bits=30)
    y = torch.tensor([0] * 500 + [1] * 40 + [0] * 500)
    data, n_bits = arithmetic_encode(y, f)
    assert torch.equal(arithmetic_decode(data, n_bits, f, len(y)), y)
    ideal = -sum(math.log2(f[v].item() / 2 ** 30) for v in y.tolist())
    assert n_bits <= ideal + 2 + 1e-3


def test_streaming_classes_with_an_adaptive_model():
    # Laplace's rule: the table changes after every symbol; encoder and decoder keep in step
    y = [0, 2, 2, 1, 2, 2, 2, 0, 2, 2, 2, 2, 1, 2]
    enc, counts = ArithmeticEncoder(), [1, 1, 1]
    for s in y:
        enc.encode(s, counts)
        counts[s] += 1
    data, n_bits = enc.finish()
    assert enc.num_bits == n_bits
    dec, counts, out = ArithmeticDecoder(data, n_bits), [1, 1, 1], []
    for _ in y:
        s = dec.decode(counts)
        out.append(s)
        counts[s] += 1
    assert out == y
    # the adaptive code length is log2 of (n + K - 1)! / ((K - 1)! prod n_k!)
    n_k = [y.count(k) for k in range(3)]
    ideal = math.log2(math.factorial(len(y) + 2) / (2 * math.prod(math.factorial(c) for c in n_k)))
    assert ideal <= n_bits <= ideal + 2 + 1e-3


def test_empty_message():
    data, n_bits = arithmetic_encode([], torch.tensor([1, 1]))
    assert n_bits == 2 and arithmetic_decode(data, n_bits, torch.tensor([1, 1]), 0).numel() == 0


def test_coder_errors():
    with pytest.raises(ValueError, match="count 0"):
        arithmetic_encode([1], [3, 0, 1])
    with pytest.raises(ValueError, match="outside"):
        arithmetic_encode([3], [1, 1, 1])
    with pytest.raises(ValueError, match="tables"):
        arithmetic_encode([0, 1], torch.ones(3, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="integer counts"):
        arithmetic_encode([0], torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="2\\*\\*30"):
        arithmetic_encode([0], [2 ** 30, 1])
    with pytest.raises(ValueError, match="num_bits"):
        ArithmeticDecoder(b"\x00", 9)
    with pytest.raises(TypeError, match="bytes"):
        ArithmeticDecoder([0], 1)
    enc = ArithmeticEncoder()
    enc.finish()
    with pytest.raises(ValueError, match="finished"):
        enc.encode(0, [1, 1])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_huffman_matches_reference(dtype, device, gen):
    p = _probs(gen, 4, 9, 6).to(dtype).to(device)
    p = (p.double() / p.double().sum(-1, keepdim=True)).to(dtype)
    before = snapshot(p)
    got = huffman_code_lengths(p)
    want = R.huffman_code_lengths(p.double().cpu().numpy())
    assert got.dtype == torch.int64 and got.device == p.device
    # ties may give different trees, but the expected length of an optimal code is unique
    pd = p.double().cpu().numpy()
    np.testing.assert_allclose((pd * got.cpu().numpy()).sum(-1), (pd * want).sum(-1), atol=1e-6)
    torch.testing.assert_close(p, before[0], rtol=0, atol=0)


def test_huffman_kraft_and_entropy_bounds(gen):
    p = _probs(gen, 300, 7)
    lengths = huffman_code_lengths(p).double()
    torch.testing.assert_close((2.0 ** -lengths).sum(-1), torch.ones(300, dtype=torch.float64))
    h = -(p * torch.log2(p)).sum(-1)
    mean = (p * lengths).sum(-1)
    assert bool((mean >= h - 1e-9).all()) and bool((mean < h + 1).all())
    assert bool((lengths >= 1).all())        # the whole-bit floor arithmetic coding avoids
    assert huffman_code_lengths(torch.tensor([1.0])).tolist() == [0]
    assert huffman_code_lengths(torch.tensor([0.25] * 4)).tolist() == [2, 2, 2, 2]


def test_huffman_errors():
    with pytest.raises(TypeError, match="floating"):
        huffman_code_lengths(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="sum to 1"):
        huffman_code_lengths(torch.tensor([0.3, 0.3]))
    with pytest.raises(ValueError, match="class axis"):
        huffman_code_lengths(torch.zeros(3, 0))
