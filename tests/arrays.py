"""Array checks that take any Keras backend's tensors: a model's output on PyTorch requires
grad, and NumPy refuses to read it as it is."""

from __future__ import annotations

import numpy as np


def numpy(x) -> np.ndarray:
    """`x` (NumPy, TensorFlow, JAX or PyTorch) as a NumPy array."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu()
    return np.asarray(x)


def assert_allclose(actual, desired, **kwargs) -> None:
    """`np.testing.assert_allclose` of the two, whatever their backend."""
    np.testing.assert_allclose(numpy(actual), numpy(desired), **kwargs)
