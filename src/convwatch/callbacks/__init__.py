"""Keras 3 callbacks that capture what a network learns into a folder, each describing itself."""

from convwatch.callbacks.activation_capture import ActivationCapture
from convwatch.callbacks.capture import Capture, TrainEndCapture
from convwatch.callbacks.classification_report import ClassificationReport
from convwatch.callbacks.deep_dream import DeepDream
from convwatch.callbacks.describe import descriptions, registered
from convwatch.callbacks.display import LiveDisplay, live
from convwatch.callbacks.embedding_projector import EmbeddingProjector
from convwatch.callbacks.filter_evolution import FilterEvolution
from convwatch.callbacks.filter_maximization import FilterMaximization
from convwatch.callbacks.history_recorder import HistoryRecorder
from convwatch.callbacks.interpretation import Interpretation
from convwatch.callbacks.layer_shapes import LayerShapes
from convwatch.callbacks.output_evolution import OutputEvolution
from convwatch.callbacks.partial_outputs import PartialOutputs
from convwatch.callbacks.pixel_tracker import PixelTracker
from convwatch.callbacks.run_inputs import RunInputs
from convwatch.callbacks.style_transfer import StyleTransfer
from convwatch.callbacks.weight_range import WeightRange

__all__ = [
    "ActivationCapture",
    "Capture",
    "ClassificationReport",
    "DeepDream",
    "EmbeddingProjector",
    "FilterEvolution",
    "FilterMaximization",
    "HistoryRecorder",
    "Interpretation",
    "LayerShapes",
    "LiveDisplay",
    "OutputEvolution",
    "PartialOutputs",
    "PixelTracker",
    "RunInputs",
    "StyleTransfer",
    "TrainEndCapture",
    "WeightRange",
    "descriptions",
    "live",
    "registered",
]
