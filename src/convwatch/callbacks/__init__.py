"""Keras 3 callbacks that capture what a network learns and save it to a folder."""

from convwatch.callbacks.activation_capture import ActivationCapture
from convwatch.callbacks.capture import Capture
from convwatch.callbacks.embedding_projector import EmbeddingProjector
from convwatch.callbacks.filter_evolution import FilterEvolution
from convwatch.callbacks.filter_maximization import FilterMaximization
from convwatch.callbacks.history_recorder import HistoryRecorder

__all__ = [
    "ActivationCapture",
    "Capture",
    "EmbeddingProjector",
    "FilterEvolution",
    "FilterMaximization",
    "HistoryRecorder",
]
