r"""Tokenisers for the language-model chapter: a pre-tokeniser and a small byte-pair encoder.

Both are deterministic and lossless: ``decode(encode(text)) == text`` for every text over the
alphabet, so a model's probability of the token sequence is a probability of the text
(Chapter 13 explains why that matters for bits per character).

* :func:`pretokenize` splits text into words with their leading space, digit runs, single
  punctuation marks and single whitespace characters (GPT-2's idea, simplified to ASCII).
* :func:`train_bpe` learns byte-pair-encoding merges (Sennrich et al., 2016) inside those
  pieces; :class:`BPETokenizer` applies them.
"""
from __future__ import annotations

import re
from collections import Counter

__all__ = ["PRETOKEN_PATTERN", "pretokenize", "BPETokenizer", "train_bpe"]

#: a word with its leading space, a digit run with its leading space, one other character
#: with its leading space, or one whitespace character; every character matches something
PRETOKEN_PATTERN = r" ?[A-Za-z]+| ?[0-9]+| ?[^A-Za-z0-9\s]|\s"
_PRETOKEN_RE = re.compile(PRETOKEN_PATTERN)


def pretokenize(text):
    """Split ``text`` into word-like pieces whose concatenation is ``text``.

    Args:
        text: a ``str``.

    Returns:
        A list of non-empty strings: words and digit runs with their leading space, single
        other characters with their leading space, and single whitespace characters.

    Raises:
        TypeError: ``text`` is not a ``str``.

    Example:
        >>> from companion.tokenize import pretokenize
        >>> pretokenize("The cat, 42 times.\\n")
        ['The', ' cat', ',', ' 42', ' times', '.', '\\n']

    See also:
        Chapter 13, language models: perplexity and tokenisation.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _PRETOKEN_RE.findall(text)


class BPETokenizer:
    """A byte-pair encoder: an alphabet plus an ordered list of merges.

    The vocabulary is the alphabet's characters (ids ``0 .. len(alphabet) - 1``) followed by
    one new token per merge, in merge order. Encoding pre-tokenises the text with
    :func:`pretokenize`, starts each piece from its characters and applies the merges in the
    order they were learned, so tokens never cross a piece boundary.

    Args:
        alphabet: the base characters, a string or sequence of distinct one-character strings.
        merges: a sequence of ``(left, right)`` token-id pairs; merge ``m`` creates token
            ``len(alphabet) + m``, and may only refer to tokens that exist before it.

    Attributes:
        vocab: list of the token strings, indexed by id.
        merges: list of the merges as ``(left, right)`` id pairs.

    Raises:
        ValueError: the alphabet repeats a character or holds a longer string, or a merge
            refers to a token that does not exist yet.

    Example:
        >>> from companion.tokenize import BPETokenizer
        >>> tok = BPETokenizer("ab ", [(0, 1), (3, 3)])   # "ab", then "abab"
        >>> tok.vocab
        ['a', 'b', ' ', 'ab', 'abab']
        >>> tok.encode("ababab ab")   # pieces "ababab" and " ab"
        [4, 3, 2, 3]
        >>> tok.decode(tok.encode("ababab ab"))
        'ababab ab'

    See also:
        :func:`train_bpe`; Chapter 13.
    """

    def __init__(self, alphabet, merges):
        alphabet = list(alphabet)
        if any(not isinstance(c, str) or len(c) != 1 for c in alphabet):
            raise ValueError("alphabet must hold single characters")
        if len(set(alphabet)) != len(alphabet):
            raise ValueError("alphabet must not repeat a character")
        self.vocab = list(alphabet)
        self.merges = []
        self._rank = {}
        for m, pair in enumerate(merges):
            a, b = (int(i) for i in pair)
            if not (0 <= a < len(self.vocab) and 0 <= b < len(self.vocab)):
                raise ValueError(f"merge {m} refers to token ({a}, {b}) but only "
                                 f"{len(self.vocab)} tokens exist before it")
            self._rank[(a, b)] = m
            self.merges.append((a, b))
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self._char_id = {c: i for i, c in enumerate(alphabet)}
        self._cache = {}

    def __len__(self):
        return len(self.vocab)

    def _encode_piece(self, piece):
        ids = self._cache.get(piece)
        if ids is not None:
            return ids
        try:
            ids = [self._char_id[c] for c in piece]
        except KeyError as err:
            raise ValueError(f"text has character {err.args[0]!r} outside the alphabet") from None
        n_alpha = len(self._char_id)
        while len(ids) > 1:
            ranks = [self._rank.get(p) for p in zip(ids, ids[1:])]
            best = min((r for r in ranks if r is not None), default=None)
            if best is None:
                break
            new, out, i = n_alpha + best, [], 0
            pair = self.merges[best]
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        self._cache[piece] = ids
        return ids

    def encode(self, text):
        """Token ids of ``text`` (a list of ints); ``ValueError`` for a character outside the alphabet."""
        out = []
        for piece in pretokenize(text):
            out.extend(self._encode_piece(piece))
        return out

    def decode(self, ids):
        """The text of a sequence of token ids."""
        return "".join(self.vocab[int(i)] for i in ids)


def train_bpe(text, num_merges, *, alphabet=None):
    r"""Learn byte-pair-encoding merges from ``text`` (Sennrich, Haddow and Birch, 2016).

    Start from single characters inside each :func:`pretokenize` piece; repeatedly count the
    adjacent token pairs over the corpus and merge the most frequent pair into a new token,
    ``num_merges`` times (fewer if no pair occurs twice). Ties go to the pair of smallest
    ids, so training is deterministic. Pair counts are updated incrementally: a merge only
    touches the pieces that contain the merged pair.

    Args:
        text: the training text, a ``str``.
        num_merges: the number of merges (an int ``>= 0``); the vocabulary has
            ``len(alphabet) + num_merges`` tokens at most.
        alphabet: the base characters; default the sorted characters of ``text``. Pass a
            fixed alphabet so that held-out text with characters absent from ``text`` can
            still be encoded.

    Returns:
        A :class:`BPETokenizer`.

    Raises:
        TypeError: ``text`` is not a ``str`` or ``num_merges`` is not an int.
        ValueError: ``num_merges`` is negative, or ``text`` has a character outside
            ``alphabet``.

    Example:
        >>> from companion.tokenize import train_bpe
        >>> tok = train_bpe("low lower lowest low low", 3)
        >>> tok.vocab[-3:]
        ['lo', 'low', ' low']
        >>> tok.decode(tok.encode("lowest low")) == "lowest low"
        True

    References:
        Sennrich, Haddow and Birch (2016), *Neural machine translation of rare words with
        subword units*, https://arxiv.org/abs/1508.07909.

    See also:
        Chapter 13, language models: perplexity and tokenisation.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(num_merges, bool) or not isinstance(num_merges, int):
        raise TypeError(f"num_merges must be an int, got {type(num_merges).__name__}")
    if num_merges < 0:
        raise ValueError(f"num_merges must be >= 0, got {num_merges}")
    if alphabet is None:
        alphabet = sorted(set(text))
    alphabet = list(alphabet)
    char_id = {c: i for i, c in enumerate(alphabet)}
    piece_counts = Counter(pretokenize(text))
    words, freqs = [], []
    for piece, f in piece_counts.items():
        try:
            words.append([char_id[c] for c in piece])
        except KeyError as err:
            raise ValueError(f"text has character {err.args[0]!r} outside the alphabet") from None
        freqs.append(f)
    pair_count = Counter()
    where = {}
    for w, (ids, f) in enumerate(zip(words, freqs)):
        for p in zip(ids, ids[1:]):
            pair_count[p] += f
            where.setdefault(p, set()).add(w)
    merges = []
    next_id = len(alphabet)
    for _ in range(num_merges):
        if not pair_count:
            break
        # most frequent pair; ties to the smallest ids
        best, count = min(pair_count.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < 2:
            break
        merges.append(best)
        for w in sorted(where.pop(best, ())):
            ids, f = words[w], freqs[w]
            for p in zip(ids, ids[1:]):
                pair_count[p] -= f
                if pair_count[p] <= 0:
                    del pair_count[p]
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
                    out.append(next_id)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            words[w] = out
            for p in zip(out, out[1:]):
                pair_count[p] += f
                where.setdefault(p, set()).add(w)
        pair_count.pop(best, None)
        next_id += 1
    return BPETokenizer(alphabet, merges)
