"""A capture written outside the package (technique + plot + Capture class, in a temporary
module) runs from an experiment that names it and shows on the run page with its group and
caption, without a file of src/ changing: the issue's "adding a capture" promise."""

from __future__ import annotations

import gc
import hashlib
import re
import sys
import textwrap
from pathlib import Path

import pytest

from convwatch import run_experiment, write_run_report
from convwatch.base.atomic import read_json

SRC = Path(__file__).resolve().parents[2] / "src"

GROUP = "Toy capture: the mean first-conv output over the probe images."
CAPTION = "Mean first-conv output of the probe images, {tag}."

# What a contributor writes: a technique (a batched function, arrays in and out), a plot
# (arrays to a matplotlib figure) and a Capture that schedules them and declares its page text.
TOY_CAPTURE = textwrap.dedent(
    f'''
    """A toy capture: the mean of the probe images through the model's first conv layer."""

    from __future__ import annotations

    import keras
    import numpy as np
    from matplotlib.figure import Figure

    from convwatch.base import atomic
    from convwatch.base.ranges import PositiveInt
    from convwatch.callbacks import Capture


    def mean_first_conv_output(model, images, batch_size=16):
        """The mean over `images` (N, H, W, C) of the first Conv2D's output: (h, w, filters)."""
        conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
        extractor = keras.Model(model.inputs[0], conv.output)
        total, count = 0.0, 0
        for start in range(0, len(images), batch_size):
            out = keras.ops.convert_to_numpy(extractor(images[start : start + batch_size]))
            total, count = total + out.sum(axis=0), count + len(out)
        return total / count


    def mean_maps_figure(maps):
        """One panel per filter of `maps` (h, w, filters)."""
        figure = Figure(figsize=(2 * maps.shape[-1], 2))
        for index in range(maps.shape[-1]):
            axes = figure.add_subplot(1, maps.shape[-1], index + 1)
            axes.imshow(maps[..., index], cmap="gray")
            axes.set_axis_off()
        return figure


    class ToyCapture(Capture):
        """Draws the probe images' mean first-conv output at every capture."""

        group = {GROUP!r}
        captions = ((r"mean_{{tag}}\\.png", {CAPTION!r}),)
        run_options = {{"probe_size": PositiveInt}}
        supplied = frozenset({{"out_dir", "probe"}})

        def __init__(self, probe, out_dir, every_n_epochs=1):
            super().__init__(out_dir, every_n_epochs)
            self.probe = np.asarray(probe)

        @classmethod
        def from_run(cls, inputs, probe_size=8, **options):
            return cls(inputs.x_test[:probe_size], out_dir=inputs.out_dir, **options)

        def capture(self, tag, epoch, step):
            maps = mean_first_conv_output(self.model, self.probe)
            atomic.write_figure(self.path(f"mean_{{tag}}.png"), mean_maps_figure(maps))
    '''
)

EXPERIMENT = textwrap.dedent(
    '''
    """A tiny classifier watched by the toy capture."""

    from toy_capture import ToyCapture  # noqa: F401  (defines the capture the runner finds)

    from convwatch import Data, Experiment, Fit
    from tests.tiny import tiny_classifier

    EXPERIMENT = Experiment(
        name="toy",
        description="tiny classifier with a capture from outside convwatch",
        build_model=tiny_classifier,
        data=Data(name="mnist", limit=100, test_limit=50),
        fit=Fit(epochs=1, batch_size=50),
        callbacks={"ToyCapture": {"probe_size": 4}},
    )
    '''
)


def _tree_hash(folder: Path) -> str:
    """A hash of every file's path and bytes below `folder`, less Python's byte-code caches."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def toy_modules(tmp_path, monkeypatch):
    """toy_capture.py importable from tmp_path, an experiments folder naming it; afterwards the
    modules are dropped, so that ToyCapture is no longer a registered capture for other tests."""
    (tmp_path / "toy_capture.py").write_text(TOY_CAPTURE)
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "toy.py").write_text(EXPERIMENT)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("CONVWATCH_EXPERIMENTS", str(experiments))
    yield
    _forget_toy_modules()


def _forget_toy_modules() -> None:
    for name in ("toy_capture", "convwatch_experiments.toy"):
        sys.modules.pop(name, None)
    gc.collect()


def test_a_capture_from_a_temporary_module_shows_on_the_run_page(tmp_path, toy_modules):
    before = _tree_hash(SRC)
    run = run_experiment("toy", results_dir=tmp_path / "results")
    record = read_json(run / "run.json")
    assert record["status"] == "completed"
    assert list(record["captures"]) == ["curves", "ToyCapture"]  # the runner's curves first
    assert record["captures"]["ToyCapture"]["group"] == GROUP
    png = run / "artifacts" / "ToyCapture" / "mean_epoch001.png"
    assert png.is_file() and (run / "artifacts" / "ToyCapture" / "mean_epoch000.png").is_file()

    page = (run / "index.html").read_text()
    assert GROUP in page
    assert CAPTION.format(tag="after epoch 1") in page
    image = re.compile(r"<img\b[^>]*\bsrc=['\"]artifacts/ToyCapture/mean_epoch001\.png['\"]")
    assert image.search(page), "no <img> of the toy capture's last picture on the run page"
    assert _tree_hash(SRC) == before  # nothing of the package was edited to add the capture

    # The page is drawn from run.json's record of the captures: rewritten in a process that no
    # longer has the toy module (as `convwatch report` would be), it says the same.
    _forget_toy_modules()
    write_run_report(run)
    page = (run / "index.html").read_text()
    assert GROUP in page and CAPTION.format(tag="after epoch 1") in page
