"""companion: numerically stable cross-entropy kernels for the book *Cross-Entropy in Practice*.

Every public function is re-exported here; each lives in the family module its chapter names
(``companion.core``, ``companion.imbalance``, ...). Float64 NumPy references of the same names
are in ``companion.reference``; seeded synthetic data in ``companion.datasets``.
"""
from . import datasets, plotting, reference, train
from .core import binary_cross_entropy, cross_entropy, entropy, js_divergence, kl_divergence
from .imbalance import (binary_focal_loss, class_weights, focal_loss, logit_adjust,
                        logit_adjusted_cross_entropy, sampling_weights)
from .targets import mixup, ordinal_smooth_labels, smooth_labels
from .structured import (Tree, adjacent_js_penalty, hierarchical_cross_entropy,
                         hierarchical_log_probs, multilabel_cross_entropy)
from .decoding import majority_filter, viterbi_decode
from .distill import distillation_loss, softmax_with_temperature
from .crowd import DawidSkeneResult, dawid_skene, majority_vote
from .multitask import UncertaintyWeighting, gradient_cosine
from .contrastive import info_nce, nt_xent
from .lm import bits_per_character, chunked_linear_cross_entropy, nats_to_bits, perplexity
from .tokenize import BPETokenizer, pretokenize, train_bpe
from .ngram import NGramLM
from .memory import TensorMemoryTracker
from .distributed import (global_normalizer, local_normalizer, vocab_parallel_cross_entropy,
                          vocab_parallel_linear_cross_entropy)
from .tabular import mixed_reconstruction_loss
from .scoring import (bayes_decision, brier_score, code_length_bits, cost_threshold,
                      expected_calibration_error, log_score, reliability_curve)
from .energy import energy_score, ood_metrics
from .coding import (ArithmeticDecoder, ArithmeticEncoder, arithmetic_decode, arithmetic_encode,
                     huffman_code_lengths, quantize_probs)

__version__ = "0.1.0"

__all__ = [
    # core
    "cross_entropy", "binary_cross_entropy", "entropy", "kl_divergence", "js_divergence",
    # imbalance
    "class_weights", "sampling_weights", "focal_loss", "binary_focal_loss", "logit_adjust",
    "logit_adjusted_cross_entropy",
    # targets
    "smooth_labels", "ordinal_smooth_labels", "mixup",
    # distill
    "softmax_with_temperature", "distillation_loss",
    # structured
    "multilabel_cross_entropy", "Tree", "hierarchical_log_probs", "hierarchical_cross_entropy",
    "adjacent_js_penalty", "majority_filter", "viterbi_decode",
    # crowd
    "dawid_skene", "majority_vote", "DawidSkeneResult",
    # lm
    "perplexity", "nats_to_bits", "bits_per_character", "chunked_linear_cross_entropy",
    # tokenisers, n-gram models and a deterministic memory measure (Chapter 13)
    "pretokenize", "train_bpe", "BPETokenizer", "NGramLM", "TensorMemoryTracker",
    # distributed: the global mean across ranks, vocabulary-parallel cross-entropy (Chapter 13)
    "local_normalizer", "global_normalizer", "vocab_parallel_cross_entropy",
    "vocab_parallel_linear_cross_entropy",
    # multitask
    "UncertaintyWeighting", "gradient_cosine",
    # contrastive
    "info_nce", "nt_xent",
    # tabular
    "mixed_reconstruction_loss",
    # scoring
    "log_score", "brier_score", "code_length_bits", "expected_calibration_error",
    "reliability_curve", "bayes_decision", "cost_threshold",
    # energy
    "energy_score", "ood_metrics",
    # coding: an integer arithmetic coder and Huffman code lengths (Chapter 16)
    "quantize_probs", "ArithmeticEncoder", "ArithmeticDecoder", "arithmetic_encode",
    "arithmetic_decode", "huffman_code_lengths",
    # submodules
    "datasets", "reference", "train", "plotting",
]
