"""Dataset loaders: MNIST, Fashion-MNIST and synthetic shapes, as uint8 arrays plus metadata."""

from convwatch.data.dataset import Dataset
from convwatch.data.registry import DATASETS, load_dataset
from convwatch.data.sample_photo import photo_image

__all__ = ["DATASETS", "Dataset", "load_dataset", "photo_image"]
