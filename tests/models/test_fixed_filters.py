"""The hand-made edge filters and the frozen net that applies them."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.models.fixed_filters import edge_filter_net, edge_kernels


def test_kernels_are_a_vertical_and_a_horizontal_edge_and_their_negatives():
    k = edge_kernels()[:, :, 0, :]
    assert k.shape == (4, 4, 4)
    np.testing.assert_array_equal(k[:, :, 0], [[-1, -1, 1, 1]] * 4)  # dark-to-bright, rightwards
    np.testing.assert_array_equal(k[:, :, 1], k[:, :, 0].T)
    np.testing.assert_array_equal(k[:, :, 2:], -k[:, :, :2])
    with pytest.raises(ValueError, match="even"):
        edge_kernels(3)


def test_net_finds_a_vertical_step_edge_before_and_after_relu_and_pooling():
    from convwatch.techniques import layer_outputs

    image = np.zeros((1, 8, 8, 1), np.float32)
    image[..., 4:, :] = 1.0  # dark left half, bright right half: one vertical edge
    model = edge_filter_net()
    maps = layer_outputs(model, image, ["conv", "relu", "pool"])
    conv = maps["conv"][0]
    assert conv.shape == (5, 5, 4)
    # A window straddling the edge at its middle sees 8 bright pixels under +1 weights.
    assert conv[0, 2, 0] == 8 and conv[0, 2, 2] == -8
    assert np.all(conv[..., 1] == 0)  # no horizontal edge anywhere
    np.testing.assert_array_equal(maps["relu"][0], np.maximum(conv, 0))
    assert maps["pool"][0].shape == (2, 2, 4) and maps["pool"][0][..., 0].max() == 8
    assert not model.get_layer("conv").trainable
