"""The run's capture GIFs (filter murals over training) as TensorBoard image series, so
`tensorboard --logdir results/` shows them beside the scalars and histograms."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from convwatch.base import layout

MURALS = "murals"  # the event files' folder under the run's tensorboard/


def write_mural_images(run_path: str | os.PathLike[str]) -> None:
    """The captures' GIFs (`artifacts/*/*.gif` of the run folder `run_path`) as TensorBoard
    image series in `tensorboard/murals`, one step per frame. Nothing is written for a run
    without GIFs."""
    run_path = Path(run_path)
    gifs = sorted((run_path / layout.ARTIFACTS_DIR).glob("*/*.gif"))
    if not gifs:
        return
    import tensorflow as tf  # heavy, and needed only for a run with GIFs

    logdir = run_path / layout.TENSORBOARD_DIR / MURALS
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        for gif in gifs:
            with Image.open(gif) as image:
                for step, frame in enumerate(ImageSequence.Iterator(image)):
                    pixels = np.asarray(frame.convert("RGB"))[None]
                    tf.summary.image(f"{gif.parent.name}/{gif.stem}", pixels, step=step)
    writer.close()
