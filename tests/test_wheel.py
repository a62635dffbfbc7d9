"""`pip install convwatch` for use in other projects: the wheel and sdist build with complete
metadata, and the wheel, installed into a fresh virtual environment, gives working callbacks
(templates and all), not only the checkout's editable install."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("build", reason="the dev extra's `build` makes the wheel")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The wheel and sdist, built from a copy of the project (the checkout stays clean)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    return out


def test_the_wheel_and_sdist_carry_complete_metadata_and_the_templates(dist):
    (wheel,) = dist.glob("convwatch-*.whl")
    (sdist,) = dist.glob("convwatch-*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = email.message_from_bytes(
            archive.read(next(n for n in names if n.endswith("METADATA")))
        )
    assert "convwatch/report/templates/inline.html" in names
    assert "convwatch/callbacks/filter_maximization.py" in names
    assert not [n for n in names if n.startswith(("tests/", "experiments/"))]
    assert meta["Name"] == "convwatch" and meta["License-Expression"] == "MIT"
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert meta["Requires-Python"] == ">=3.11" and meta["Summary"]
    assert {"dev", "ray", "jax", "torch"} <= set(meta.get_all("Provides-Extra"))
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in meta.get_all("Classifier"))
    assert "keras>=3.6" in meta.get_all("Requires-Dist")
    assert sdist.stat().st_size > 50_000


def test_the_wheel_installed_in_a_fresh_venv_runs_a_fit_with_a_capture(dist, tmp_path):
    (wheel,) = dist.glob("convwatch-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    # Its dependencies (TensorFlow, Keras, ...) are this environment's, seen through a .pth
    # file: nothing is downloaded, and the checkout's own convwatch is not on the path.
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = textwrap.dedent(
        """
        import sys
        import keras, numpy as np
        import convwatch
        from convwatch.callbacks import FilterEvolution
        assert convwatch.__file__.startswith(sys.prefix), convwatch.__file__
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                                  keras.layers.Flatten(), keras.layers.Dense(2)])
        model.compile("sgd", "mse")
        capture = FilterEvolution(out_dir="captured")
        model.fit(np.zeros((4, 8, 8, 1)), np.zeros((4, 2)), epochs=1, verbose=0,
                  callbacks=[capture])
        html = capture._repr_html_()
        assert "FilterEvolution" in html and "data:image/" in html, html[:300]
        print("ok", convwatch.__version__)
        """
    )
    done = subprocess.run(
        [python, "-c", script], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "CONVWATCH_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok 0.1.0")
    assert (tmp_path / "captured" / "conv_filters.gif").is_file()
