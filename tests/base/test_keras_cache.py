"""base/keras_cache.py: where Keras keeps downloads, and the switch that forbids downloading."""

from pathlib import Path

import pytest

from convwatch.base.keras_cache import keras_cache_dir, offline, short_reason


def test_cache_dir_follows_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    assert keras_cache_dir("models") == tmp_path / "home" / "models"
    assert keras_cache_dir("datasets") == tmp_path / "home" / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    assert keras_cache_dir("models") == Path.home() / ".keras" / "models"


def test_cache_dir_names_the_valid_subfolders():
    with pytest.raises(ValueError, match="'datasets', 'models'. Received: subfolder='weights'"):
        keras_cache_dir("weights")


@pytest.mark.parametrize(
    "value, expected", [("1", True), (" Yes ", True), ("0", False), ("", False)]
)
def test_offline_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("CONVWATCH_OFFLINE", value)
    assert offline() is expected


def test_short_reason_is_one_line_of_at_most_200_characters():
    assert short_reason(OSError("no\n  route")) == "OSError: no route"
    assert short_reason(ValueError()) == "ValueError: no message"
    long = short_reason(RuntimeError("x" * 500))
    assert long.startswith("RuntimeError: ") and long.endswith("...") and len(long) < 230
