"""Float64 NumPy references for every kernel, written to read like the book's formulas.

Each function has the name and the arguments of the kernel it checks, takes NumPy arrays and
returns NumPy arrays. They are slow on purpose: clarity first, no tricks beyond the stable
log-sum-exp. The tests compare every kernel against its reference in float64.
"""
from ._core import binary_cross_entropy, cross_entropy, entropy, js_divergence, kl_divergence
from ._imbalance import (binary_focal_loss, class_weights, focal_loss, logit_adjust,
                         logit_adjusted_cross_entropy, sampling_weights)
from ._targets import mixup, ordinal_smooth_labels, smooth_labels
from ._structured import (adjacent_js_penalty, hierarchical_cross_entropy, hierarchical_log_probs,
                          multilabel_cross_entropy)
from ._distill import distillation_loss, softmax_with_temperature
from ._crowd import dawid_skene, majority_vote
from ._multitask import gradient_cosine, uncertainty_weighting
from ._contrastive import info_nce, nt_xent
from ._lm import bits_per_character, chunked_linear_cross_entropy, nats_to_bits, perplexity
from ._tabular import mixed_reconstruction_loss
from ._scoring import (bayes_decision, brier_score, code_length_bits, cost_threshold,
                       expected_calibration_error, log_score, reliability_curve)
from ._energy import energy_score, ood_metrics
from ._coding import huffman_code_lengths, quantize_probs
from ._decoding import majority_filter, viterbi_decode

__all__ = [
    "cross_entropy", "binary_cross_entropy", "entropy", "kl_divergence", "js_divergence",
    "class_weights", "sampling_weights", "focal_loss", "binary_focal_loss", "logit_adjust", "logit_adjusted_cross_entropy",
    "smooth_labels", "ordinal_smooth_labels", "mixup",
    "multilabel_cross_entropy", "hierarchical_log_probs", "hierarchical_cross_entropy", "adjacent_js_penalty",
    "softmax_with_temperature", "distillation_loss",
    "dawid_skene", "majority_vote",
    "uncertainty_weighting", "gradient_cosine",
    "info_nce", "nt_xent",
    "perplexity", "nats_to_bits", "bits_per_character", "chunked_linear_cross_entropy",
    "mixed_reconstruction_loss",
    "log_score", "brier_score", "code_length_bits", "expected_calibration_error", "reliability_curve", "bayes_decision", "cost_threshold",
    "energy_score", "ood_metrics",
    "quantize_probs", "huffman_code_lengths", "majority_filter", "viterbi_decode",
]
