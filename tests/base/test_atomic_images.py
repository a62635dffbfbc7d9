"""write_png and write_gif: pixels come back as given; gif_frame quantises mostly-gray frames
exactly (or off by one gray level past 256 colours), so frames can be quantised beforehand."""

import numpy as np
import pytest
from PIL import Image

from convwatch.base import atomic


def atlas_like(levels: int = 256, tints: int = 3) -> np.ndarray:
    """A gray ramp of `levels` levels with `tints` coloured patches, as an atlas is."""
    rng = np.random.default_rng(0)
    gray = np.linspace(0, 255, levels).round().astype(np.uint8)[rng.integers(0, levels, (40, 64))]
    frame = np.repeat(gray[..., None], 3, axis=-1)
    for i in range(tints):
        frame[i * 4 : i * 4 + 3, :5] = (230, 120, 10 * i)
    return frame


def gif_frames(path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB")).astype(int))
        return frames


def test_a_mostly_gray_frame_gets_an_exact_palette_or_one_level_off():
    exact = atlas_like(levels=200)
    back = np.asarray(atomic.gif_frame(exact).convert("RGB"))
    np.testing.assert_array_equal(back, exact)
    crowded = atlas_like(levels=256, tints=3)  # 259 colours
    image = atomic.gif_frame(crowded)
    assert image.mode == "P"
    error = np.abs(np.asarray(image.convert("RGB")).astype(int) - crowded)
    tinted = crowded[..., 0] != crowded[..., 2]
    assert error.max() == 1 and np.all(error[tinted] == 0)  # tints exact, grays off by one
    assert atomic.gif_frame(exact[..., 0]).mode == "L"


def test_a_colourful_frame_is_quantised_as_pillow_does():
    colourful = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    image = atomic.gif_frame(colourful)
    expected = Image.fromarray(colourful).convert("P", palette=Image.Palette.ADAPTIVE)
    np.testing.assert_array_equal(np.asarray(image), np.asarray(expected))


def test_gif_frames_come_back_as_given_and_prequantised_frames_write_the_same_file(tmp_path):
    frames = [atlas_like(levels=100 + 50 * i) for i in range(3)]
    atomic.write_gif(tmp_path / "arrays.gif", frames, duration_ms=120)
    atomic.write_gif(tmp_path / "frames.gif", [atomic.gif_frame(f) for f in frames], 120)
    assert (tmp_path / "arrays.gif").read_bytes() == (tmp_path / "frames.gif").read_bytes()
    for got, given in zip(gif_frames(tmp_path / "arrays.gif"), frames, strict=True):
        np.testing.assert_array_equal(got, given)
    with Image.open(tmp_path / "arrays.gif") as gif:
        assert gif.info["duration"] == 120


def test_gray_and_colour_frames_mix(tmp_path):
    gray = np.full((6, 8), 90, np.uint8)
    red = np.zeros((6, 8, 3), np.uint8)
    red[..., 0] = 255
    atomic.write_gif(tmp_path / "mixed.gif", [gray, red, Image.fromarray(gray)])
    first, second, third = gif_frames(tmp_path / "mixed.gif")
    assert np.all(first == 90) and np.all(second == [255, 0, 0]) and np.all(third == 90)


def test_frames_of_different_sizes_are_padded_with_their_background(tmp_path):
    small = atomic.gif_frame(np.full((3, 4, 3), [250, 250, 250], np.uint8))
    big = np.zeros((6, 8, 3), np.uint8)
    big[..., 2] = 200
    frames = atomic.padded([small, atomic.gif_frame(big)])
    assert [frame.size for frame in frames] == [(8, 6), (8, 6)]
    atomic.write_gif(tmp_path / "padded.gif", frames)
    first, second = gif_frames(tmp_path / "padded.gif")
    assert np.all(first == 250) and np.all(second == [0, 0, 200])


def test_bad_gif_frames_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one frame"):
        atomic.write_gif(tmp_path / "none.gif", [])
    with pytest.raises(ValueError, match="same size"):
        atomic.write_gif(
            tmp_path / "sizes.gif", [np.zeros((4, 4), np.uint8)] * 2 + [np.zeros((4, 5), np.uint8)]
        )
    with pytest.raises(ValueError, match="uint8"):
        atomic.write_gif(tmp_path / "float.gif", [np.zeros((4, 4))])
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("level", [None, 0, 9])
def test_png_pixels_come_back_at_any_compression(tmp_path, level):
    frame = atlas_like()
    options = {} if level is None else {"compress_level": level}
    atomic.write_png(tmp_path / "a.png", frame, **options)
    with Image.open(tmp_path / "a.png") as png:
        assert png.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(png), frame)
