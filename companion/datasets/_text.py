"""A tiny synthetic English-like corpus (Chapter 13)."""
from __future__ import annotations

import torch

from ._common import make_generator

# a small grammar; weights make some words much more frequent than others (roughly Zipf-like)
_DETERMINERS = (["the"] * 6) + (["a"] * 3) + ["every", "one", "that"]
_ADJECTIVES = ["small", "old", "quiet", "bright", "heavy", "curious", "green", "distant", "patient",
               "broken", "warm", "narrow"]
_NOUNS = (["cat"] * 4) + (["river"] * 3) + (["model"] * 3) + ["bird", "lamp", "teacher", "garden",
          "window", "engine", "letter", "mountain", "signal", "station", "question", "number"]
_VERBS = (["sees"] * 4) + (["follows"] * 2) + ["predicts", "carries", "remembers", "counts",
          "compresses", "ignores", "builds", "answers", "crosses", "measures"]
_ADVERBS = ["slowly", "again", "carefully", "rarely", "today", "quietly"]
_PREPOSITIONS = ["near", "under", "behind", "beyond", "with"]


def tiny_corpus(n_sentences=300, *, seed=None, generator=None):
    r"""A seeded corpus of short English-like sentences from a small weighted grammar.

    Sentences follow ``DET (ADJ) NOUN VERB DET (ADJ) NOUN (PREP DET NOUN) (ADVERB) .`` with
    weighted word lists, so word frequencies are skewed (a few very common words, a long tail)
    and the text has structure at the character, word and phrase levels. Enough for a
    character model and a word model to disagree on per-token perplexity while agreeing in kind
    on bits per character.

    Args:
        n_sentences: number of sentences (``>= 1``).
        seed, generator: randomness (``seed`` defaults to 0).

    Returns:
        The corpus as a ``str``: lowercase words separated by single spaces, each sentence
        ending with ``" ."`` and a newline.

    Example:
        >>> from companion.datasets import tiny_corpus
        >>> text = tiny_corpus(3, seed=0)
        >>> len(text.splitlines()), text.endswith(".\n")
        (3, True)

    See also:
        Chapter 13, language models: perplexity and tokenisation.
    """
    if isinstance(n_sentences, bool) or not isinstance(n_sentences, int) or n_sentences < 1:
        raise ValueError(f"n_sentences must be an int >= 1, got {n_sentences!r}")
    g = make_generator(seed, generator)
    n = n_sentences

    def pick(words):
        return [words[i] for i in torch.randint(len(words), (n,), generator=g).tolist()]

    def maybe(p):
        return (torch.rand(n, generator=g) < p).tolist()

    d1, a1, n1, has_a1 = pick(_DETERMINERS), pick(_ADJECTIVES), pick(_NOUNS), maybe(0.5)
    verb = pick(_VERBS)
    d2, a2, n2, has_a2 = pick(_DETERMINERS), pick(_ADJECTIVES), pick(_NOUNS), maybe(0.4)
    prep, d3, n3, has_pp = pick(_PREPOSITIONS), pick(_DETERMINERS), pick(_NOUNS), maybe(0.3)
    adverb, has_adv = pick(_ADVERBS), maybe(0.25)
    lines = []
    for i in range(n):
        words = [d1[i]] + ([a1[i]] if has_a1[i] else []) + [n1[i], verb[i], d2[i]]
        words += ([a2[i]] if has_a2[i] else []) + [n2[i]]
        words += [prep[i], d3[i], n3[i]] if has_pp[i] else []
        words += [adverb[i]] if has_adv[i] else []
        lines.append(" ".join(words) + " .")
    return "\n".join(lines) + "\n"
