"""A model's outputs for a batch, by name: every output, one of them, or any layer's output."""

from __future__ import annotations

import keras
import numpy as np

from convwatch.techniques.activations import layer_outputs


def model_outputs(model, x, output: int | str | None = None) -> dict[str, np.ndarray]:
    """The outputs of `model` for the batch `x`, as numpy arrays keyed by name.

    Args:
        model: a Keras 3 model, Sequential or functional, with one output or several.
        x: an input batch.
        output: None (default) for every model output; an int for the output at that index; a
            str for the output of the layer of that name (nested layers as `outer/inner`).

    Returns:
        `{name: array}` in the model's output order. Outputs are named after their layers
        where the model says (functional `output_names`), else `"output"` for a single output
        and `"output0"`, `"output1"`, ... for several.
    """
    if isinstance(output, str):
        return layer_outputs(model, x, [output])
    arrays = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(model(x, training=False))]
    names = list(getattr(model, "output_names", None) or [])
    if len(names) != len(arrays):
        names = ["output"] if len(arrays) == 1 else [f"output{i}" for i in range(len(arrays))]
    named = dict(zip(names, arrays, strict=True))
    if output is None:
        return named
    if not -len(arrays) <= output < len(arrays):
        raise ValueError(f"model has {len(arrays)} outputs. Received: output={output}")
    return {names[output]: arrays[output]}
