"""Model builders the experiments name: learned nets (`builders`), fixed-weight nets
(`fixed_filters`), and the layer that recombines feature maps (`recombine`)."""

from convwatch.models.builders import (
    baseline_cnn,
    fashion_cnn,
    larger_cnn,
    mlp,
    shapes_capacity,
    shapes_reconstruction,
)

__all__ = [
    "baseline_cnn",
    "fashion_cnn",
    "larger_cnn",
    "mlp",
    "shapes_capacity",
    "shapes_reconstruction",
]
