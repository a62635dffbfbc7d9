"""Techniques: pure functions from a model and arrays to arrays (no files, no plots)."""

from convwatch.techniques.activations import layer_outputs
from convwatch.techniques.classification import (
    confusion_matrix,
    errors_by_class,
    most_confused,
    normalize_rows,
    overall_accuracy,
    per_class_accuracy,
    top_k,
)
from convwatch.techniques.embed import embed
from convwatch.techniques.layers import find_layers, first_conv_layer, penultimate_layer
from convwatch.techniques.maximize import maximize_filters
from convwatch.techniques.neighbours import nearest_neighbours

__all__ = [
    "embed",
    "find_layers",
    "first_conv_layer",
    "layer_outputs",
    "maximize_filters",
    "nearest_neighbours",
    "penultimate_layer",
    "confusion_matrix",
    "errors_by_class",
    "most_confused",
    "normalize_rows",
    "overall_accuracy",
    "per_class_accuracy",
    "top_k",
]
