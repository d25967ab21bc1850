"""Entropy coding: an integer arithmetic coder and Huffman code lengths.

Cross-entropy in bits is an expected code length; these tools turn a model's probabilities
into an actual bit string, so that the claim can be measured rather than assumed.

* :func:`quantize_probs` turns probabilities into the integer frequency tables a coder needs.
* :class:`ArithmeticEncoder` / :class:`ArithmeticDecoder` code one symbol at a time with its
  own table (so the model may change from symbol to symbol, or adapt to what came before);
  :func:`arithmetic_encode` / :func:`arithmetic_decode` do a whole sequence.
* :func:`huffman_code_lengths` gives the lengths of an optimal prefix code, for contrast.

The coder is the classic integer coder of Witten, Neal and Cleary (1987) with 32-bit
registers and deferred ("pending") bits. It is pure Python: a few thousand symbols take a
fraction of a second.

See also: Chapter 16, compression and minimum description length.
"""
from __future__ import annotations

import bisect

import heapq
import itertools
from collections.abc import Sequence

import torch

__all__ = ["quantize_probs", "ArithmeticEncoder", "ArithmeticDecoder", "arithmetic_encode",
           "arithmetic_decode", "huffman_code_lengths"]

_STATE_BITS = 32
_FULL = 1 << _STATE_BITS
_HALF = _FULL >> 1
_QUARTER = _FULL >> 2
#: largest frequency total the coder accepts: the interval never shrinks below a quarter
MAX_TOTAL = _QUARTER


def _check_probs(probs):
    if not isinstance(probs, torch.Tensor) or not probs.is_floating_point():
        raise TypeError(f"probs must be a floating torch.Tensor, got {getattr(probs, 'dtype', type(probs))}")
    if probs.dim() == 0 or probs.shape[-1] == 0:
        raise ValueError(f"probs must have a non-empty class axis (..., K), got shape {tuple(probs.shape)}")
    p = probs.detach().to(torch.float64)
    if p.numel() and not bool(torch.isfinite(p).all()):
        raise ValueError("probs must be finite (no NaN or inf)")
    if p.numel() and bool((p < 0).any()):
        raise ValueError("probs must be non-negative")
    if p.numel():
        sums = p.sum(-1)
        worst = (sums - 1).abs().max().item()
        # rounding to a half dtype moves a sum by up to about K ulps
        if worst > max(1e-3, p.shape[-1] * torch.finfo(probs.dtype).eps):
            raise ValueError(f"probs must sum to 1 over the last axis, but a row sums to "
                             f"{sums.flatten()[(sums - 1).abs().flatten().argmax()].item():.6g}")
    return p


def quantize_probs(probs, *, total_bits=16):
    r"""Integer frequencies for an arithmetic coder: every class at least 1, total :math:`2^b`.

    .. math::

        f_k = 1 + \lfloor p_k (T - K) \rfloor + [k \text{ gets one of the leftover counts}],
        \qquad \sum_k f_k = T = 2^b

    Every class keeps a count of at least one, so every outcome stays encodable (a zero
    would make an outcome that the model called impossible impossible to send), and the
    leftover counts go to the classes with the largest fractional parts (ties to the lower
    index). Coding with :math:`f/T` instead of :math:`p` costs
    :math:`\sum_k p_k \log_2 (p_k T / f_k)` bits per symbol, a few thousandths of a bit for
    ``total_bits=16`` unless some :math:`p_k` is below about :math:`K/T`.

    Args:
        probs: ``(..., K)`` probabilities (any floating dtype; computed in float64).
        total_bits: :math:`b`, with :math:`K \le 2^b \le 2^{30}` (default 16).

    Returns:
        ``(..., K)`` int64 frequencies summing to :math:`2^b` over the last axis.

    Raises:
        TypeError: ``probs`` is not a floating tensor.
        ValueError: ``probs`` has no class axis, holds a NaN, inf or negative value, a row
            does not sum to 1 (within 1e-3, or K ulps of a half dtype), or ``total_bits`` is out of range.

    Example:
        >>> import torch
        >>> from companion.coding import quantize_probs
        >>> quantize_probs(torch.tensor([0.5, 0.3, 0.2, 0.0]), total_bits=4).tolist()
        [7, 5, 3, 1]

    See also:
        Chapter 16, compression and minimum description length.
    """
    p = _check_probs(probs)
    k = p.shape[-1]
    if isinstance(total_bits, bool) or not isinstance(total_bits, int) or not 1 <= total_bits <= 30 \
            or (1 << total_bits) < k:
        raise ValueError(f"total_bits must be an int with {k} <= 2**total_bits <= 2**30 "
                         f"(one count per class), got {total_bits!r}")
    total = 1 << total_bits
    p = p / p.sum(-1, keepdim=True).clamp_min(1e-300)
    scaled = p * (total - k)
    base = torch.floor(scaled)
    freqs = 1 + base.to(torch.int64)
    leftover = total - freqs.sum(-1, keepdim=True)        # in [0, K) up to rounding
    # the classes with the largest fractional parts take the leftover counts
    order = torch.sort(scaled - base, dim=-1, descending=True, stable=True).indices
    rank = torch.empty_like(order)
    rank.scatter_(-1, order, torch.arange(k, device=p.device).expand_as(order).contiguous())
    freqs = freqs + (rank < leftover).to(torch.int64)
    return freqs.to(probs.device)


def _table(freqs, name="freqs"):
    """A frequency table as (cumulative list, total), validated."""
    try:
        f = [int(v) for v in freqs]
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a sequence of integer counts, got {freqs!r}") from err
    if not f or min(f) < 0:
        raise ValueError(f"{name} must be a non-empty sequence of counts >= 0, got {f}")
    cum = [0, *itertools.accumulate(f)]
    if not 0 < cum[-1] <= MAX_TOTAL:
        raise ValueError(f"{name} must sum to a total in [1, 2**30], got {cum[-1]}")
    return cum


class ArithmeticEncoder:
    r"""Integer arithmetic encoder (Witten, Neal and Cleary 1987), one symbol at a time.

    Each call to :meth:`encode` narrows the current interval to the symbol's share
    :math:`f_y / T` of it; whenever the interval lies in one half of the unit interval the
    common leading bit is emitted. Coding :math:`n` symbols costs at most
    :math:`\sum_i -\log_2 (f_{y_i}/T_i) + 2` bits plus a negligible rounding term: the
    code length of the model's probabilities, plus two bits for the whole message.

    Example:
        >>> from companion.coding import ArithmeticEncoder, ArithmeticDecoder
        >>> enc = ArithmeticEncoder()
        >>> for y in [0, 0, 1, 0]:
        ...     enc.encode(y, [3, 1])          # P(0) = 3/4, P(1) = 1/4
        >>> data, n_bits = enc.finish()
        >>> dec = ArithmeticDecoder(data, n_bits)
        >>> [dec.decode([3, 1]) for _ in range(4)]
        [0, 0, 1, 0]

    See also:
        :func:`arithmetic_encode`; Chapter 16, compression and minimum description length.
    """

    def __init__(self):
        self._low, self._high, self._pending = 0, _FULL - 1, 0
        self._bits: list[int] = []
        self._done = False

    @property
    def num_bits(self) -> int:
        """Bits emitted so far (the final count is known after :meth:`finish`)."""
        return len(self._bits)

    def _emit(self, bit):
        self._bits.append(bit)
        if self._pending:
            self._bits.extend([1 - bit] * self._pending)
            self._pending = 0

    def encode_range(self, cum_low: int, cum_high: int, total: int) -> None:
        """Encode the symbol that owns ``[cum_low, cum_high)`` of a table summing to ``total``."""
        if self._done:
            raise ValueError("the encoder is finished; start a new ArithmeticEncoder")
        if not 0 <= cum_low < cum_high <= total <= MAX_TOTAL:
            raise ValueError(f"need 0 <= cum_low < cum_high <= total <= 2**30, got "
                             f"{cum_low}, {cum_high}, {total} (a symbol with count 0 cannot be coded)")
        span = self._high - self._low + 1
        self._high = self._low + span * cum_high // total - 1
        self._low = self._low + span * cum_low // total
        while True:
            if self._high < _HALF:
                self._emit(0)
            elif self._low >= _HALF:
                self._emit(1)
                self._low -= _HALF
                self._high -= _HALF
            elif self._low >= _QUARTER and self._high < _HALF + _QUARTER:
                # straddles the middle: the next bit is not known yet, only that it flips
                self._pending += 1
                self._low -= _QUARTER
                self._high -= _QUARTER
            else:
                break
            self._low = 2 * self._low
            self._high = 2 * self._high + 1

    def encode(self, symbol: int, freqs: Sequence[int]) -> None:
        """Encode ``symbol`` with the frequency table ``freqs`` (integer counts, total <= 2**30)."""
        cum = _table(freqs)
        if isinstance(symbol, bool) or not 0 <= int(symbol) < len(cum) - 1:
            raise ValueError(f"symbol {symbol!r} is outside the table's {len(cum) - 1} classes")
        s = int(symbol)
        self.encode_range(cum[s], cum[s + 1], cum[-1])

    def finish(self) -> tuple[bytes, int]:
        """Flush the two bits that pin the final interval; return ``(data, num_bits)``."""
        if not self._done:
            self._pending += 1
            self._emit(0 if self._low < _QUARTER else 1)
            self._done = True
        bits = self._bits
        data = bytearray()
        for i in range(0, len(bits), 8):
            chunk = bits[i:i + 8]
            byte = 0
            for b in chunk:
                byte = (byte << 1) | b
            data.append(byte << (8 - len(chunk)))
        return bytes(data), len(bits)


class ArithmeticDecoder:
    r"""Decoder for :class:`ArithmeticEncoder`: call :meth:`decode` with the same tables in order.

    Args:
        data: the bytes returned by :meth:`ArithmeticEncoder.finish`.
        num_bits: the bit count returned with them (bits past it are read as zeros).

    See also:
        :class:`ArithmeticEncoder`; Chapter 16, compression and minimum description length.
    """

    def __init__(self, data: bytes, num_bits: int):
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        if isinstance(num_bits, bool) or not isinstance(num_bits, int) or not 0 <= num_bits <= 8 * len(data):
            raise ValueError(f"num_bits must be an int in [0, {8 * len(data)}], got {num_bits!r}")
        self._data, self._num_bits, self._pos = bytes(data), num_bits, 0
        self._low, self._high, self._value = 0, _FULL - 1, 0
        for _ in range(_STATE_BITS):
            self._value = (self._value << 1) | self._next_bit()

    def _next_bit(self) -> int:
        pos = self._pos
        self._pos += 1
        if pos >= self._num_bits:
            return 0
        return (self._data[pos >> 3] >> (7 - (pos & 7))) & 1

    def decode_target(self, total: int) -> int:
        """The cumulative count in ``[0, total)`` that the next symbol's range contains."""
        span = self._high - self._low + 1
        return ((self._value - self._low + 1) * total - 1) // span

    def consume(self, cum_low: int, cum_high: int, total: int) -> None:
        """Narrow the interval exactly as the encoder did for the decoded symbol."""
        span = self._high - self._low + 1
        self._high = self._low + span * cum_high // total - 1
        self._low = self._low + span * cum_low // total
        while True:
            if self._high < _HALF:
                pass
            elif self._low >= _HALF:
                self._low -= _HALF
                self._high -= _HALF
                self._value -= _HALF
            elif self._low >= _QUARTER and self._high < _HALF + _QUARTER:
                self._low -= _QUARTER
                self._high -= _QUARTER
                self._value -= _QUARTER
            else:
                break
            self._low = 2 * self._low
            self._high = 2 * self._high + 1
            self._value = 2 * self._value + self._next_bit()

    def decode(self, freqs: Sequence[int]) -> int:
        """Decode one symbol coded with the frequency table ``freqs``."""
        return self._decode_cumulative(_table(freqs))

    def _decode_cumulative(self, cum) -> int:
        """Decode one symbol from a cumulative table (``cum[0] = 0``, ``cum[-1]`` the total)."""
        total = cum[-1]
        target = self.decode_target(total)
        # the symbol s with cum[s] <= target < cum[s + 1] (target < total, so s <= len - 2)
        symbol = bisect.bisect_right(cum, target) - 1
        self.consume(cum[symbol], cum[symbol + 1], total)
        return symbol


def _tables(freqs, n):
    """Per-symbol cumulative tables from a (K,) or (n, K) integer tensor or nested list."""
    f = freqs.tolist() if isinstance(freqs, torch.Tensor) else freqs
    if isinstance(freqs, torch.Tensor) and freqs.is_floating_point():
        raise TypeError("freqs must hold integer counts (see quantize_probs), got a floating tensor")
    if f and isinstance(f[0], (list, tuple)):
        if len(f) != n:
            raise ValueError(f"freqs has {len(f)} tables but there are {n} symbols")
        return [_table(row) for row in f]
    return [_table(f)] * n


def arithmetic_encode(symbols, freqs) -> tuple[bytes, int]:
    r"""Arithmetic-code a sequence; return ``(data, num_bits)``.

    The measured length satisfies
    :math:`\text{num\_bits} \le \sum_i -\log_2 \bigl(f_{i, y_i} / T_i\bigr) + 2` (up to a
    rounding term of order :math:`n\,2^{-14}` bits for 32-bit registers and totals
    :math:`\le 2^{16}`).

    Args:
        symbols: ``(n,)`` integer tensor or sequence of ints.
        freqs: one ``(K,)`` table for every symbol, or ``(n, K)`` tables, one per symbol
            (integer tensor or nested lists; see :func:`quantize_probs`).

    Returns:
        ``(data, num_bits)``: the code as bytes (the last byte zero-padded) and its length in
        bits.

    Raises:
        TypeError: ``freqs`` is a floating tensor or not a table of ints.
        ValueError: a symbol is outside its table or has count 0, or the numbers of tables
            and symbols disagree.

    Example:
        >>> import torch
        >>> from companion.coding import arithmetic_encode, arithmetic_decode
        >>> y = torch.tensor([0, 1, 1, 2, 0, 0])
        >>> data, n_bits = arithmetic_encode(y, torch.tensor([2, 1, 1]))
        >>> arithmetic_decode(data, n_bits, torch.tensor([2, 1, 1]), len(y)).tolist()
        [0, 1, 1, 2, 0, 0]

    References:
        Witten, Neal and Cleary (1987), *Arithmetic coding for data compression*,
        Communications of the ACM 30(6), https://doi.org/10.1145/214762.214771.

    See also:
        Chapter 16, compression and minimum description length.
    """
    ys = symbols.tolist() if isinstance(symbols, torch.Tensor) else list(symbols)
    tables = _tables(freqs, len(ys))
    enc = ArithmeticEncoder()
    for i, (y, cum) in enumerate(zip(ys, tables)):
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < len(cum) - 1:
            raise ValueError(f"symbols[{i}] = {y!r} is outside its table's {len(cum) - 1} classes")
        if cum[y] == cum[y + 1]:
            raise ValueError(f"symbols[{i}] = {y} has count 0 in its table and cannot be coded")
        enc.encode_range(cum[y], cum[y + 1], cum[-1])
    return enc.finish()


def arithmetic_decode(data: bytes, num_bits: int, freqs, num_symbols: int) -> torch.Tensor:
    """Decode ``num_symbols`` symbols written by :func:`arithmetic_encode` with the same ``freqs``.

    Returns:
        ``(num_symbols,)`` int64 tensor.

    See also:
        :func:`arithmetic_encode`; Chapter 16.
    """
    if isinstance(num_symbols, bool) or not isinstance(num_symbols, int) or num_symbols < 0:
        raise ValueError(f"num_symbols must be an int >= 0, got {num_symbols!r}")
    tables = _tables(freqs, num_symbols)
    dec = ArithmeticDecoder(data, num_bits)
    out = []
    for cum in tables:
        out.append(dec._decode_cumulative(cum))
    return torch.tensor(out, dtype=torch.int64)


def huffman_code_lengths(probs):
    r"""Codeword lengths of a Huffman code for each distribution in ``probs``.

    Huffman's algorithm repeatedly merges the two least probable nodes; a symbol's length is
    the number of merges above it. The code is an optimal prefix code, with expected length
    :math:`H(p) \le \sum_k p_k l_k < H(p) + 1` bits, but every symbol costs a whole number of
    bits, at least one: a symbol of probability 0.99 still takes a bit where
    :math:`-\log_2 0.99 \approx 0.015` would do.

    Args:
        probs: ``(..., K)`` probabilities (floating; ties are broken towards lower indices).

    Returns:
        ``(..., K)`` int64 lengths; :math:`\sum_k 2^{-l_k} = 1`. A single class gets length 0.

    Raises:
        TypeError: ``probs`` is not a floating tensor.
        ValueError: ``probs`` has no class axis, holds a NaN, inf or negative value, or a row
            does not sum to 1.

    Example:
        >>> import torch
        >>> from companion.coding import huffman_code_lengths
        >>> huffman_code_lengths(torch.tensor([0.5, 0.25, 0.125, 0.125])).tolist()
        [1, 2, 3, 3]

    References:
        Huffman (1952), *A method for the construction of minimum-redundancy codes*,
        Proceedings of the IRE 40(9), https://doi.org/10.1109/JRPROC.1952.273898.

    See also:
        Chapter 16, compression and minimum description length.
    """
    p = _check_probs(probs)
    k = p.shape[-1]
    rows = p.reshape(-1, k).tolist()
    out = []
    for row in rows:  # K is small; a heap per distribution
        lengths = [0] * k
        if k > 1:
            heap = [(w, i, [i]) for i, w in enumerate(row)]
            heapq.heapify(heap)
            counter = k
            while len(heap) > 1:
                w1, _, s1 = heapq.heappop(heap)
                w2, _, s2 = heapq.heappop(heap)
                for s in s1 + s2:
                    lengths[s] += 1
                heapq.heappush(heap, (w1 + w2, counter, s1 + s2))
                counter += 1
        out.append(lengths)
    return torch.tensor(out, dtype=torch.int64, device=probs.device).reshape(p.shape)
