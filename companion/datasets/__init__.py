"""Seeded synthetic data for the book's chapters.

Every generator takes ``seed`` (an int) or ``generator`` (a ``torch.Generator``), returns
tensors, and runs in well under a second at the sizes the chapters use.
"""
from ._ch06 import correlated_multilabel
from ._ch07 import taxonomy_blobs
from ._ch08 import secondary_structure
from ._imbalance import imbalanced_blobs
from ._moons import two_moons
from ._ordinal import ordinal_data
from ._crowd import simulated_annotators
from ._annotators import annotate, annotator_confusion
from ._missing import missing_multilabel
from ._imitation import Corridor
from ._lane import LaneKeeping
from ._text import tiny_corpus
from ._english import english_excerpt
from ._multitask import two_task_data
from ._tabular import mixed_table
from ._ood import ood_split

__all__ = [
    "imbalanced_blobs", "correlated_multilabel", "taxonomy_blobs", "secondary_structure",
    "two_moons", "ordinal_data",
    "simulated_annotators", "annotator_confusion", "annotate",
    "missing_multilabel", "Corridor", "LaneKeeping", "tiny_corpus", "english_excerpt",
    "two_task_data", "mixed_table", "ood_split",
]
