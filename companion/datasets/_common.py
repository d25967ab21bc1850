"""Helpers shared by the generators."""
from __future__ import annotations

import torch


def make_generator(seed=None, generator=None) -> torch.Generator:
    """Return ``generator`` if given, else a CPU generator seeded with ``seed`` (default 0)."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        if seed is not None:
            raise ValueError("pass either seed or generator, not both")
        return generator
    if seed is None:
        seed = 0
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)
