"""Dataset loaders: MNIST, Fashion-MNIST and synthetic shapes, as uint8 arrays plus metadata."""

from convwatch.data.dataset import Dataset
from convwatch.data.registry import DATASETS, load_dataset

__all__ = ["DATASETS", "Dataset", "load_dataset"]
