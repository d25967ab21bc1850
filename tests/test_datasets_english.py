"""Tests for the frozen English excerpt (companion.datasets._english)."""
import hashlib

import pytest

from companion.datasets import english_excerpt
from companion.datasets._english import ENGLISH_LICENSE, ENGLISH_SHA256


def test_frozen_text():
    text = english_excerpt()
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == ENGLISH_SHA256
    assert 50_000 < len(text) < 65_000
    assert text.isascii() and text.endswith(".\n")
    assert set(text) <= {chr(i) for i in range(32, 127)} | {"\n"}


def test_licence_is_shipped():
    assert "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in ENGLISH_LICENSE
    assert "Copyright (c) 2001-2023 Python Software Foundation" in ENGLISH_LICENSE


@pytest.mark.parametrize("frac", [0.1, 0.2, 0.5])
def test_split(frac):
    text = english_excerpt()
    train, test = english_excerpt(held_out=frac)
    assert train + test == text
    n_paras = text.count("\n")
    assert abs(test.count("\n") - frac * n_paras) <= 1
    assert train.endswith("\n") and test.endswith("\n")


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, True, "0.2"])
def test_bad_split(bad):
    with pytest.raises(ValueError, match="held_out must be None or a number in"):
        english_excerpt(held_out=bad)
