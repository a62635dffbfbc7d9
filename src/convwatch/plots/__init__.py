"""Figure builders: arrays in, matplotlib figures or uint8 images out; nothing here knows Keras."""

from convwatch.plots.channel_mural import channel_mural
from convwatch.plots.classification import (
    class_scores_figure,
    confusion_matrix_figure,
    errors_by_class_figure,
    per_class_accuracy_figure,
    prediction_grid_figure,
)
from convwatch.plots.curves import plot_history, sweep_curves_figure
from convwatch.plots.embedding import (
    map_frames,
    map_image,
    map_limits,
    neighbour_strips,
    thumbnail_map,
)
from convwatch.plots.figure import new_figure
from convwatch.plots.filter_atlas import atlas_text, filter_atlas
from convwatch.plots.frames import animation_frames, caption_frame
from convwatch.plots.interpretation import MapColumn, interpretation_figure, signed_image
from convwatch.plots.mural import (
    feature_map_mural,
    filter_mural,
    mural_figure,
    tile,
    to_uint8_frame,
)
from convwatch.plots.optimized_images import image_columns, loss_curves
from convwatch.plots.stages import stages_grid

__all__ = [
    "new_figure",
    "atlas_text",
    "filter_atlas",
    "plot_history",
    "animation_frames",
    "caption_frame",
    "channel_mural",
    "feature_map_mural",
    "filter_mural",
    "mural_figure",
    "map_frames",
    "map_image",
    "map_limits",
    "neighbour_strips",
    "thumbnail_map",
    "tile",
    "to_uint8_frame",
    "class_scores_figure",
    "confusion_matrix_figure",
    "errors_by_class_figure",
    "per_class_accuracy_figure",
    "prediction_grid_figure",
    "sweep_curves_figure",
    "MapColumn",
    "interpretation_figure",
    "signed_image",
    "stages_grid",
    "image_columns",
    "loss_curves",
]
