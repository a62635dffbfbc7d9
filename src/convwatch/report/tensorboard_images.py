"""The run's capture GIFs (filter murals over training) as TensorBoard image series, so
`tensorboard --logdir results/` shows them beside the scalars and histograms."""

from __future__ import annotations

from convwatch.base import layout
from convwatch.run.folder import RunFolder


def write_mural_images(folder: RunFolder) -> None:
    """The captures' GIFs (filter murals over training) as TensorBoard image series in
    `tensorboard/murals`, one step per frame."""
    gifs = sorted((folder.path / layout.ARTIFACTS_DIR).glob("*/*.gif"))
    if not gifs:
        return
    import numpy as np
    import tensorflow as tf
    from PIL import Image, ImageSequence

    writer = tf.summary.create_file_writer(str(folder.tensorboard_dir / "murals"))
    with writer.as_default():
        for gif in gifs:
            with Image.open(gif) as image:
                for step, frame in enumerate(ImageSequence.Iterator(image)):
                    pixels = np.asarray(frame.convert("RGB"))[None]
                    tf.summary.image(f"{gif.parent.name}/{gif.stem}", pixels, step=step)
    writer.close()
