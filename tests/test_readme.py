"""The README's "use it in your own project" example runs as written (on offline data)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_callback_example_runs_and_writes_its_files(tmp_path, monkeypatch):
    import keras

    section = README.read_text().split("## Using convwatch callbacks in your own Keras project")[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)

    def offline_mnist():  # the real loader downloads; hand it the sandbox's MNIST instead
        from convwatch.data import load_dataset

        d = load_dataset("mnist")
        return (d.x_train[..., 0], d.y_train), (d.x_test[..., 0], d.y_test)

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline_mnist)
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace("epochs=3", "epochs=1"), "README.md", "exec"), {})
    run = tmp_path / "my_run"
    assert (run / "activations" / "activations_epoch001.npz").is_file()
    assert list((run / "filters").glob("*_filters.gif"))
    assert list((run / "maximization").glob("*.gif"))
    assert (run / "embedding" / "tsne_epoch001.csv").is_file()
    assert np.load(run / "activations" / "activations_epoch001.npz", allow_pickle=False).files
