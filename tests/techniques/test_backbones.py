"""backbones: cached ImageNet weights only (never a download), and the random multi-scale net."""

import h5py
import keras
import numpy as np
import pytest

from convwatch.errors import ConvwatchError
from convwatch.techniques import backbones
from tests.arrays import assert_allclose, numpy

VGG16_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """KERAS_HOME and Keras' /tmp fallback both point at empty folders under tmp_path."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(backbones, "FALLBACK_CACHE_DIR", tmp_path / "fallback" / "models")
    return tmp_path


def test_missing_weights_name_the_file_and_folder(cache):
    assert backbones.imagenet_weights_path("vgg19") is None
    with pytest.raises(ConvwatchError) as error:
        backbones.imagenet_network("vgg19")
    message = str(error.value)
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(cache / "home" / "models") in message and "does not download" in message
    with pytest.raises(ConvwatchError, match="Valid names: vgg19, vgg16, inception_v3"):
        backbones.imagenet_weights_path("resnet")


@pytest.mark.parametrize("folder", ["home", "fallback"])
def test_cached_file_is_found(cache, folder):
    models = cache / folder / "models"
    models.mkdir(parents=True)
    (models / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5").touch()
    path = backbones.imagenet_weights_path("inception_v3")
    assert path == models / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


def test_imagenet_network_loads_the_cached_file_and_preprocesses(cache):
    # A stand-in weights file: a randomly initialised VGG16, saved the way Keras ships them.
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(0)
    source = keras.applications.VGG16(include_top=False, weights=None)
    (cache / "home" / "models").mkdir(parents=True)
    with h5py.File(cache / "home" / "models" / VGG16_FILE, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    network = backbones.imagenet_network("vgg16")
    assert network.layers[1].name == "preprocess" and network.get_layer("block5_conv3")
    x = np.random.default_rng(0).random((1, 40, 56, 3), dtype=np.float32)  # any size
    expected = source(keras.applications.vgg16.preprocess_input(x * 255.0))
    assert_allclose(network(x), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["vgg19", "inception_v3"])
def test_preprocess_matches_keras_applications(name):
    x = np.random.default_rng(1).random((2, 5, 4, 3), dtype=np.float32)
    module = keras.applications.vgg19 if name == "vgg19" else keras.applications.inception_v3
    expected = module.preprocess_input(x * 255.0)
    assert_allclose(backbones.imagenet_preprocess(name)(x), expected, atol=1e-4)


def test_random_multiscale_net():
    net = backbones.random_multiscale_net(seed=3)
    assert net.name == backbones.RANDOM_MULTISCALE == "random_multiscale"
    for name in (*backbones.RANDOM_STYLE_LAYERS, backbones.RANDOM_CONTENT_LAYER):
        assert net.get_layer(name).trainable is False
    assert net.trainable_weights == []
    same, other = backbones.random_multiscale_net(seed=3), backbones.random_multiscale_net(seed=4)
    assert len(net.weights) == 5  # one kernel per layer, no biases
    for a, b, c in zip(net.weights, same.weights, other.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert not np.array_equal(a.numpy(), c.numpy())
    for size in [(17, 23), (32, 40)]:  # any size; the content layer is at half resolution
        out = net(np.zeros((1, *size, 3), np.float32))
        assert out.shape == (1, size[0] // 2, size[1] // 2, 32)


def test_the_sandbox_hides_keras_tmp_fallback():
    # conftest's sandbox: weights this machine has in /tmp/.keras/models are not seen either
    assert backbones.FALLBACK_CACHE_DIR.parts[-2:] == ("no-keras-tmp-fallback", "models")
    assert not backbones.FALLBACK_CACHE_DIR.exists()


def test_seeded_he_normal_is_numpy_drawn_truncated_and_he_scaled():
    init = backbones.SeededHeNormal(seed=5)
    values = numpy(init((5, 5, 4, 400)))
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, numpy(backbones.SeededHeNormal(seed=5)((5, 5, 4, 400))))
    assert not np.array_equal(values, numpy(backbones.SeededHeNormal(seed=6)((5, 5, 4, 400))))
    he = np.sqrt(2.0 / (5 * 5 * 4))  # fan_in = 100
    assert values.std() == pytest.approx(he, rel=0.02)
    assert np.abs(values).max() <= 2 * he / 0.87962566103423978 + 1e-6  # cut at 2 deviations
    assert backbones.SeededHeNormal.from_config(init.get_config()).seed == 5
