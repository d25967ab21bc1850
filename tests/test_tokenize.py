"""Tests for companion.tokenize: pre-tokeniser and byte-pair encoding."""
import pytest

from companion.datasets import english_excerpt
from companion.tokenize import BPETokenizer, pretokenize, train_bpe

ALPHABET = [chr(i) for i in range(32, 127)] + ["\n"]


@pytest.mark.parametrize("text", ["", "a", "  double  spaces\n\n", "x=1; y=(2, 3)!\n",
                                  "The cat, 42 times.", " leading", "trailing "])
def test_pretokenize_is_lossless(text):
    assert "".join(pretokenize(text)) == text


def test_pretokenize_pieces():
    assert pretokenize("An object's id().\n") == ["An", " object", "'", "s", " id", "(", ")",
                                                   ".", "\n"]


def test_pretokenize_type_error():
    with pytest.raises(TypeError, match="text must be a str"):
        pretokenize(b"bytes")


def test_bpe_round_trip_and_compression():
    train, test = english_excerpt(held_out=0.2)
    tok = train_bpe(train, 200, alphabet=ALPHABET)
    assert len(tok) == len(ALPHABET) + 200
    ids = tok.encode(test)
    assert tok.decode(ids) == test
    assert len(ids) < 0.6 * len(test)          # merges shorten the text
    assert all(0 <= i < len(tok) for i in ids)


def test_bpe_is_deterministic_and_merges_most_frequent_pair_first():
    text = "aaab aaab aab"
    t1, t2 = train_bpe(text, 3), train_bpe(text, 3)
    assert t1.merges == t2.merges
    # ("a", "a") occurs 5 times (twice in each "aaab", once in "aab"), more than any other
    assert t1.vocab[len(set(text))] == "aa"


def test_bpe_stops_when_no_pair_repeats():
    tok = train_bpe("abc", 10)
    assert tok.merges == []


def test_bpe_tokens_stay_inside_pieces():
    tok = train_bpe("to the to the to the", 20)
    for piece in tok.vocab:
        assert pretokenize(piece) == [piece] or len(piece) == 1


def test_bpe_incremental_counts_match_naive_retraining():
    # a naive trainer that recounts every pair after every merge gives the same merges
    text = english_excerpt()[:3000]
    fast = train_bpe(text, 40)
    from collections import Counter
    alphabet = sorted(set(text))
    words = Counter(pretokenize(text))
    seqs = {w: [alphabet.index(c) for c in w] for w in words}
    merges = []
    for m in range(40):
        pairs = Counter()
        for w, ids in seqs.items():
            for p in zip(ids, ids[1:]):
                pairs[p] += words[w]
        best, count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < 2:
            break
        merges.append(best)
        new = len(alphabet) + m
        for w, ids in seqs.items():
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            seqs[w] = out
    assert fast.merges == merges


def test_errors():
    with pytest.raises(ValueError, match="outside the alphabet"):
        train_bpe("abc", 2, alphabet="ab")
    with pytest.raises(ValueError, match="num_merges must be >= 0"):
        train_bpe("abc", -1)
    with pytest.raises(TypeError, match="num_merges must be an int"):
        train_bpe("abc", 2.0)
    with pytest.raises(ValueError, match="must not repeat"):
        BPETokenizer("aa", [])
    with pytest.raises(ValueError, match="merge 0 refers to token"):
        BPETokenizer("ab", [(0, 5)])
    with pytest.raises(ValueError, match="outside the alphabet"):
        BPETokenizer("ab", []).encode("abc")
