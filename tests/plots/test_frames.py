"""GIF frames and the GIF/PNG writers: open what was written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageSequence

from convwatch.base.atomic import write_gif, write_png
from convwatch.plots import animation_frames, caption_frame


def _frames(channels: int | None) -> list[np.ndarray]:
    shape = (20, 30) if channels is None else (20, 30, channels)
    return [np.full(shape, v, np.uint8) for v in (0, 120, 250)]


@pytest.mark.parametrize("channels", [None, 1, 3], ids=["gray", "gray-1ch", "rgb"])
def test_write_gif_is_animated_with_distinct_frames(tmp_path, channels):
    path = write_gif(tmp_path / "anim.gif", _frames(channels), duration_ms=150)
    with Image.open(path) as gif:
        assert gif.is_animated and gif.n_frames == 3
        assert gif.size == (30, 20)
        assert gif.info.get("loop") == 0  # loop forever
        pixels = [np.asarray(f.convert("L"))[0, 0] for f in ImageSequence.Iterator(gif)]
    assert len(set(pixels)) == 3  # every frame is different
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anim.gif"]  # no temp file left


def test_write_gif_mixed_gray_and_rgb_frames(tmp_path):
    frames = [np.zeros((8, 8), np.uint8), np.full((8, 8, 3), (255, 0, 0), np.uint8)]
    with Image.open(write_gif(tmp_path / "mixed.gif", frames)) as gif:
        assert gif.n_frames == 2
        gif.seek(1)
        assert gif.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_write_gif_rejects_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="same size"):
        write_gif(tmp_path / "a.gif", [np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8)])
    with pytest.raises(ValueError, match="at least one"):
        write_gif(tmp_path / "b.gif", [])
    with pytest.raises(ValueError, match="uint8"):
        write_gif(tmp_path / "c.gif", [np.zeros((8, 8), np.float32)])
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temp file


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 3)])
def test_write_png_round_trip(tmp_path, shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    path = write_png(tmp_path / "x.png", image)
    with Image.open(path) as png:
        expected = image[..., 0] if shape[-1:] == (1,) else image  # 1-channel comes back gray
        np.testing.assert_array_equal(np.asarray(png), expected)
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


def test_write_png_rejects_float(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_png(tmp_path / "x.png", np.zeros((4, 4)))


@pytest.mark.parametrize("shape", [(64, 96), (64, 96, 3)])
def test_caption_frame_adds_a_text_band_below(shape):
    frame = np.full(shape, 100, np.uint8)
    out = caption_frame(frame, "epoch 3")
    assert out.dtype == np.uint8 and out.ndim == len(shape) and out.shape[1] == 96
    assert out.shape[0] > 64
    np.testing.assert_array_equal(out[:64], frame)  # the frame itself is untouched
    band = out[64:]
    assert band.max() == 255 and band.min() < 100  # white band with dark text on it


def test_animation_frames_same_size_and_captioned():
    grids = [np.random.default_rng(i).random((11, 11)) for i in range(3)]
    frames = animation_frames(grids, [f"epoch {i}" for i in range(3)])
    assert len({f.shape for f in frames}) == 1 and frames[0].shape[1] == 11 * 24
    with pytest.raises(ValueError, match="caption"):
        animation_frames(grids, ["epoch 0"])
