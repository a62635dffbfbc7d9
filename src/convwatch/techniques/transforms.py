"""Transformation robustness: a random shift, scale and rotation of the picture at each step.

A picture that excites a deep unit only at one exact position, size and angle is mostly
adversarial texture; one that keeps exciting it while it is moved a few pixels, scaled by 10%
and turned by a few degrees shows what the unit responds to (Olah et al., "Feature
Visualization", Distill 2017; Lucid's `standard_transforms` jitter, scale 0.9-1.1 and rotate
+-10 degrees; here +-5, after the shift).

Each step, one transform for the whole batch, a hash of `(seed, step)` alone in integer ops
that wrap alike on every backend (as `ascent.step_shift`), so every backend draws the same: an
integer shift `(dy, dx)` in `[-jitter, jitter]`, a scale `1 + u * max_scale` and an angle
`u * max_angle` (u in [-1, 1]) about a centre (the unit's receptive-field centre). The picture
is resampled bilinearly with gathers (`keras.ops.take`: gradients on every backend); what
comes from outside the picture is grey.
"""

from __future__ import annotations

import math

from keras import ops

MAX_SCALE = 0.1  # scale in [0.9, 1.1]
MAX_ANGLE = 5.0  # degrees, in [-5, 5]
_LEVELS = 4096  # resolution of the uniform draws


def step_uniform(seed, step, salt: int):
    """A float32 scalar in [-1, 1], a hash of `(seed, step, salt)` (integer ops that wrap
    alike on every backend)."""
    h = ops.bitwise_xor(ops.cast(seed, "int32") * 83492791, ops.cast(step, "int32") * 19349663)
    h = ops.bitwise_xor(h, ops.cast(salt, "int32") * 73856093 + 1013904223)
    h = ops.bitwise_xor(h, ops.right_shift(h, 15)) * 73244475
    h = ops.bitwise_xor(h, ops.right_shift(h, 13)) * 668265261
    h = ops.bitwise_xor(h, ops.right_shift(h, 16))
    u = ops.cast(ops.mod(h, _LEVELS), "float32") / (_LEVELS - 1)
    return 2.0 * u - 1.0


def step_transform(seed, step, max_scale, max_angle):
    """`(scale, angle in radians)` of this step, from the hash (see the module docstring)."""
    scale = 1.0 + ops.cast(max_scale, "float32") * step_uniform(seed, step, 3)
    angle = ops.cast(max_angle, "float32") * (math.pi / 180.0) * step_uniform(seed, step, 4)
    return scale, angle


def affine(images, shift, scale, angle, centre):
    """`images` `(N, H, W, C)` moved by `shift` `(dy, dx)`, scaled by `scale` and turned by
    `angle` (radians) about `centre` `(cy, cx)` (pixel coordinates), bilinearly; grey (0.5)
    where the source falls outside. Output pixel `q` reads the input at
    `centre + R(-angle) (q - centre - shift) / scale`."""
    _, height, width, channels = images.shape
    rows = ops.cast(ops.arange(height), "float32")
    cols = ops.cast(ops.arange(width), "float32")
    qy = ops.reshape(rows, (-1, 1)) + ops.zeros((1, width))
    qx = ops.reshape(cols, (1, -1)) + ops.zeros((height, 1))
    cy, cx = ops.cast(centre[0], "float32"), ops.cast(centre[1], "float32")
    ry = qy - cy - ops.cast(shift[0], "float32")
    rx = qx - cx - ops.cast(shift[1], "float32")
    cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
    sy = cy + cos * ry - sin * rx
    sx = cx + sin * ry + cos * rx
    y0, x0 = ops.floor(sy), ops.floor(sx)
    wy, wx = sy - y0, sx - x0
    flat = ops.reshape(images - 0.5, (-1, height * width, channels))
    out = 0.0
    for dy, weight_y in ((0.0, 1.0 - wy), (1.0, wy)):
        for dx, weight_x in ((0.0, 1.0 - wx), (1.0, wx)):
            y, x = y0 + dy, x0 + dx
            inside = ops.logical_and(
                ops.logical_and(y >= 0, y <= height - 1), ops.logical_and(x >= 0, x <= width - 1)
            )
            weight = weight_y * weight_x * ops.cast(inside, "float32")
            index = ops.clip(y, 0, height - 1) * width + ops.clip(x, 0, width - 1)
            index = ops.cast(index, "int32")
            taken = ops.take(flat, ops.reshape(index, (-1,)), axis=1)
            out = out + taken * ops.reshape(weight, (1, -1, 1))
    return 0.5 + ops.reshape(out, (-1, height, width, channels))
