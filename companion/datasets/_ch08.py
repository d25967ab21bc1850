"""Synthetic protein chains with helix / strand / coil segments (Chapter 8)."""
from __future__ import annotations

import torch

from ._common import make_generator

#: state indices used by :func:`secondary_structure`
STATES = ("H", "E", "C")
_MIN_LENGTH = (4, 3, 2)      # a helix needs a full turn; strands and loops are short
_EXTRA_MEAN = (7.0, 2.5, 3.5)  # segment length = minimum + Poisson(extra): means 11, 5.5, 5.5


def secondary_structure(num_sequences, length, *, signal=1.0, num_amino_acids=20, seed=None,
                        generator=None):
    r"""Amino-acid chains with H/E/C secondary-structure labels in realistic segments.

    Each chain is a run of segments. A coil (C) segment is followed by a helix (H) with
    probability 0.55 and by a strand (E) otherwise; helices and strands are followed by coil.
    Segment lengths are a minimum plus a Poisson draw: helices 4 + Poisson(7) (mean 11),
    strands 3 + Poisson(2.5) (mean 5.5), coils 2 + Poisson(3.5) (mean 5.5), so no segment is
    shorter than two residues and the labels contain no isolated residue. The first segment
    starts at a random offset. Each residue's amino acid is drawn from a state-dependent
    distribution :math:`\operatorname{softmax}(\text{signal}\cdot\theta_s)` with
    :math:`\theta_s \sim \mathcal N(0, I)`, a crude stand-in for the helix- and strand-forming
    propensities of real amino acids: one residue says little, a window says more.

    Args:
        num_sequences: number of chains.
        length: residues per chain (at least 2).
        signal: scale of the propensities; larger is easier.
        num_amino_acids: alphabet size (20).
        seed, generator: randomness (``seed`` defaults to 0); the propensities, the segments
            and the residues all come from it.

    Returns:
        ``(residues, states, propensities)``: ``(N, L)`` int64 amino-acid indices, ``(N, L)``
        int64 states (0 = H, 1 = E, 2 = C, as in ``STATES``) and the ``(3, num_amino_acids)``
        emission probabilities.

    Example:
        >>> from companion.datasets import secondary_structure
        >>> residues, states, _ = secondary_structure(4, 50, seed=0)
        >>> tuple(residues.shape), int(states.max()) <= 2
        ((4, 50), True)

    See also:
        Chapter 8, structured prediction of protein secondary structure.
    """
    for name, value, low in (("num_sequences", num_sequences, 1), ("length", length, 2),
                             ("num_amino_acids", num_amino_acids, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if isinstance(signal, bool) or not isinstance(signal, (int, float)) or signal < 0:
        raise ValueError(f"signal must be a non-negative number, got {signal!r}")
    g = make_generator(seed, generator)
    theta = torch.randn(3, num_amino_acids, generator=g, dtype=torch.float64)
    emission = torch.softmax(signal * theta, dim=-1)
    # enough segments to cover every chain: the shortest segment has 2 residues
    max_segments = length // 2 + 2
    extra = torch.poisson(torch.tensor(_EXTRA_MEAN, dtype=torch.float64)
                          .expand(num_sequences, max_segments, 3).contiguous(), generator=g)
    to_helix = torch.rand(num_sequences, max_segments, generator=g) < 0.55
    offsets = torch.randint(0, 6, (num_sequences,), generator=g)
    states = torch.empty(num_sequences, length, dtype=torch.long)
    minimum = torch.tensor(_MIN_LENGTH)
    for n in range(num_sequences):
        row, state = [], 2
        for j in range(max_segments):
            run = int(minimum[state] + extra[n, j, state])
            row += [state] * run
            if len(row) >= length + int(offsets[n]):
                break
            state = (0 if to_helix[n, j] else 1) if state == 2 else 2
        states[n] = torch.tensor(row[int(offsets[n]):int(offsets[n]) + length])
    residues = torch.multinomial(emission[states.flatten()], 1, generator=g).view(num_sequences, length)
    return residues, states, emission.float()
