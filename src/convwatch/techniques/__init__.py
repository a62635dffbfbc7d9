"""Techniques: pure functions from a model and arrays to arrays (no files, no plots)."""

from convwatch.techniques.activations import layer_outputs
from convwatch.techniques.any_size import any_size_extractor
from convwatch.techniques.confusion import (
    confusion_matrix,
    errors_by_class,
    most_confused,
    normalize_rows,
    overall_accuracy,
    per_class_accuracy,
    top_k,
)
from convwatch.techniques.deep_dream import deep_dream
from convwatch.techniques.embed import align_to, embed
from convwatch.techniques.exemplars import Exemplars, top_exemplars
from convwatch.techniques.extractor import feature_extractor
from convwatch.techniques.filter_matching import match_filters
from convwatch.techniques.grad_cam import grad_cam
from convwatch.techniques.guided_backprop import guided_backprop
from convwatch.techniques.layer_output_shapes import conv_arithmetic, conv_output_size, layer_shapes
from convwatch.techniques.layers import (
    find_layers,
    first_conv_layer,
    output_layer,
    penultimate_layer,
)
from convwatch.techniques.maximize import maximize_filters
from convwatch.techniques.neighbours import nearest_neighbours
from convwatch.techniques.occlusion import background_value, occlusion_map
from convwatch.techniques.pca import pca
from convwatch.techniques.receptive_field import receptive_field
from convwatch.techniques.saliency import saliency_map
from convwatch.techniques.similarity import cka, layer_similarity
from convwatch.techniques.spectrum import high_frequency_share
from convwatch.techniques.style_transfer import gram_matrix, style_transfer

__all__ = [
    "align_to",
    "embed",
    "pca",
    "find_layers",
    "first_conv_layer",
    "layer_outputs",
    "maximize_filters",
    "receptive_field",
    "top_exemplars",
    "Exemplars",
    "high_frequency_share",
    "nearest_neighbours",
    "penultimate_layer",
    "confusion_matrix",
    "errors_by_class",
    "most_confused",
    "normalize_rows",
    "overall_accuracy",
    "per_class_accuracy",
    "top_k",
    "grad_cam",
    "guided_backprop",
    "background_value",
    "occlusion_map",
    "saliency_map",
    "conv_arithmetic",
    "conv_output_size",
    "layer_shapes",
    "deep_dream",
    "any_size_extractor",
    "feature_extractor",
    "gram_matrix",
    "style_transfer",
    "cka",
    "layer_similarity",
    "match_filters",
    "output_layer",
]
