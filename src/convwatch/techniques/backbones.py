"""Networks for Deep Dream and style transfer: cached ImageNet backbones, or random filters.

Deep Dream and style transfer want a network that has seen real photos: keras.io uses
InceptionV3 (dream) and VGG19 (style), with ImageNet weights that Keras downloads into its cache.
convwatch never downloads them: it uses a weights file already in the cache, and otherwise says
which file to copy where. Style transfer also works without any training, on a shallow network of
random multi-scale filters (Ustyuzhaninov et al., 2016, "Texture synthesis using shallow
convolutional networks with random filters"): `random_multiscale_net` builds one, always
available. Every network here takes `[0, 1]` RGB images of any size.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import keras
import numpy as np
from keras import layers

from convwatch.base.keras_cache import keras_cache_dir
from convwatch.base.ranges import PositiveInt, Seed, validate_ranges
from convwatch.errors import ConvwatchError

# name -> (keras.applications constructor, weights file without the classifier), as Keras names
# them in keras/src/applications/{vgg19,vgg16,inception_v3}.py.
IMAGENET_WEIGHTS = {
    "vgg19": ("VGG19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "vgg16": ("VGG16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "inception_v3": ("InceptionV3", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
}
_ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/"
_ORIGINS = {"vgg19": "vgg19/", "vgg16": "vgg16/", "inception_v3": "inception_v3/"}
# Where Keras' get_file puts files when its cache folder is not writable.
FALLBACK_CACHE_DIR = (
    Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras" / "models"
)

# Gatys et al.'s VGG19 choice: the first conv of every block for style, block5_conv2 for content.
VGG19_STYLE_LAYERS = tuple(f"block{b}_conv1" for b in range(1, 6))
VGG19_CONTENT_LAYER = "block5_conv2"
# keras.io's Deep Dream layers of InceptionV3 (it weights them 1.0, 1.5, 2.0 and 2.5).
INCEPTION_DREAM_LAYERS = ("mixed4", "mixed5", "mixed6", "mixed7")
# random_multiscale_net's name, and its layers with the default kernel sizes.
RANDOM_MULTISCALE = "random_multiscale"
RANDOM_STYLE_LAYERS = ("scale_3", "scale_5", "scale_9", "scale_15")
RANDOM_CONTENT_LAYER = "deep"


def imagenet_weights_path(name: str) -> Path | None:
    """The cached ImageNet weights file (without the classifier) of `name`, or None.

    Looks in `keras_cache_dir("models")`, then in `FALLBACK_CACHE_DIR` (`/tmp/.keras/models`, where
    Keras downloads when its cache folder is not writable). Never downloads.
    """
    filename = _entry(name)[1]
    for folder in (keras_cache_dir("models"), FALLBACK_CACHE_DIR):
        if (folder / filename).is_file():
            return folder / filename
    return None


def imagenet_network(name: str) -> keras.Model:
    """`keras.applications` network `name` without its classifier, on cached ImageNet weights.

    The model takes `[0, 1]` RGB images of any size (`(None, None, 3)`): its first layer is
    `imagenet_preprocess(name)`, which maps them to what the network was trained on, and its
    other layers keep their Keras names (`"block5_conv2"`, `"mixed4"`).

    Args:
        name: `"vgg19"`, `"vgg16"` or `"inception_v3"`.

    Returns:
        A functional `keras.Model` (not compiled).

    Raises:
        ConvwatchError: the weights file is not cached (convwatch never downloads it).
    """
    constructor = _entry(name)[0]
    path = imagenet_weights_path(name)
    if path is None:
        raise missing_weights_error(name)
    inputs = keras.Input((None, None, 3), name="rgb_0_1")
    x = imagenet_preprocess(name)(inputs)
    backbone = getattr(keras.applications, constructor)(
        include_top=False, weights=str(path), input_tensor=x, input_shape=(None, None, 3)
    )
    # Same layers, one input tensor instead of a list: calls on a bare batch do not warn.
    return keras.Model(inputs, backbone.outputs[0], name=backbone.name)


def missing_weights_error(name: str) -> ConvwatchError:
    """The error saying that `name`'s weights file is not cached: which file, where to put it."""
    filename = _entry(name)[1]
    return ConvwatchError(
        f"No ImageNet weights for {name}: {filename} is not in {keras_cache_dir('models')} "
        f"(nor in {FALLBACK_CACHE_DIR}), and convwatch does not download them. Copy the "
        f"file there from a machine with internet ({_ORIGIN}{_ORIGINS[name]}{filename}), "
        "or use random_multiscale_net() for style transfer."
    )


def imagenet_preprocess(name: str) -> keras.Layer:
    """A layer mapping `[0, 1]` RGB images to the input ImageNet network `name` expects.

    VGG ("caffe" mode): times 255, RGB to BGR, minus the ImageNet mean pixel per channel.
    Inception ("tf" mode): to `[-1, 1]`. Same numbers as `keras.applications.<net>.preprocess_input`
    applied to `255 * image`.
    """
    _entry(name)
    return ImagenetPreprocess("tf" if name == "inception_v3" else "caffe", name="preprocess")


@keras.saving.register_keras_serializable(package="convwatch")
class ImagenetPreprocess(layers.Layer):
    """`[0, 1]` RGB -> a `keras.applications` network's input ("caffe" or "tf" mode)."""

    BGR_MEAN = (103.939, 116.779, 123.68)  # ImageNet mean pixel, as keras.applications uses it

    def __init__(self, mode: str = "caffe", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("caffe", "tf"):
            raise ValueError(f"mode must be 'caffe' or 'tf'. Received: mode={mode!r}")
        self.mode = mode

    def call(self, images):
        if self.mode == "tf":
            return images * 2.0 - 1.0
        bgr = keras.ops.flip(images, axis=-1) * 255.0
        return bgr - keras.ops.convert_to_tensor(self.BGR_MEAN, dtype=images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class SeededHeNormal(keras.initializers.Initializer):
    """He-normal weights drawn by NumPy from `seed`: the same on every Keras backend (Keras'
    own initializers draw from the backend's generator, so a seed gives other weights on
    JAX or PyTorch). A normal of standard deviation `sqrt(2 / fan_in)`, truncated at two
    standard deviations and rescaled to keep that deviation, as `keras.initializers.HeNormal`."""

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def __call__(self, shape, dtype=None):
        fan_in = int(np.prod(shape[:-1]))
        rng = np.random.default_rng(self.seed)
        values = rng.standard_normal(int(np.prod(shape)))
        while (outside := np.abs(values) > 2).any():  # redraw beyond two deviations
            values[outside] = rng.standard_normal(int(outside.sum()))
        std = np.sqrt(2.0 / fan_in) / 0.87962566103423978  # the truncation's std loss
        return keras.ops.convert_to_tensor((values * std).reshape(shape), dtype or "float32")

    def get_config(self) -> dict:
        return {"seed": self.seed}


@validate_ranges
def random_multiscale_net(
    channels: PositiveInt = 3,
    kernel_sizes: tuple[PositiveInt, ...] = (3, 5, 9, 15),
    filters: PositiveInt = 32,
    seed: Seed = 0,
) -> keras.Model:
    """A frozen network of random filters at several scales, for style transfer without weights.

    `[0, 1]` images of any size are centred to `[-1, 1]`; then one Conv2D per kernel size k
    (`filters` He-normal random filters, no bias, ReLU, "same" padding, named `scale_<k>`) sees
    the image at that scale, the maps are concatenated (`"multiscale"`), pooled 2x2 (`"pool"`)
    and mixed by a random 3x3 Conv2D with ReLU (`"deep"`), the coarser layer for content.
    Random filters capture colour and texture statistics well enough for Gram-matrix style
    losses (Ustyuzhaninov et al., 2016). Every layer is frozen; the same seed gives the same
    weights, on every Keras backend (`SeededHeNormal`). With the defaults, 300 style-transfer
    steps on a 192x128 photo pair take about 25-40 s on 2 CPU cores (TensorFlow).

    Args:
        channels: input channels. Defaults to 3.
        kernel_sizes: one scale per kernel size. Defaults to (3, 5, 9, 15).
        filters: filters per scale (and in `"deep"`). Defaults to 32.
        seed: seed of the random weights. Defaults to 0.

    Returns:
        A functional `keras.Model` named "random_multiscale".
    """
    if not kernel_sizes or any(int(k) != k or k < 1 for k in kernel_sizes):
        raise ValueError(f"kernel_sizes must be integers >= 1. Received: {kernel_sizes}")
    if len(set(kernel_sizes)) != len(kernel_sizes):
        raise ValueError(f"kernel_sizes must differ from each other. Received: {kernel_sizes}")
    inputs = keras.Input((None, None, int(channels)), name="image")
    centred = layers.Rescaling(2.0, offset=-1.0, name="centre")(inputs)

    def conv(size, index, name):
        init = SeededHeNormal(seed=int(seed) * 1000 + index)
        return layers.Conv2D(
            int(filters),
            int(size),
            padding="same",
            activation="relu",
            use_bias=False,
            kernel_initializer=init,
            trainable=False,
            name=name,
        )

    maps = [conv(k, i, f"scale_{k}")(centred) for i, k in enumerate(kernel_sizes)]
    x = layers.Concatenate(name="multiscale")(maps) if len(maps) > 1 else maps[0]
    x = layers.AveragePooling2D(2, name="pool")(x)
    x = conv(3, len(maps), RANDOM_CONTENT_LAYER)(x)
    model = keras.Model(inputs, x, name=RANDOM_MULTISCALE)
    model.trainable = False
    return model


def _entry(name: str) -> tuple[str, str]:
    if name not in IMAGENET_WEIGHTS:
        raise ConvwatchError(
            f"Unknown ImageNet network {name!r}. Valid names: {', '.join(IMAGENET_WEIGHTS)}"
        )
    return IMAGENET_WEIGHTS[name]
