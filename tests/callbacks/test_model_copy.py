"""private_copy: a clone that shares no variable with the live model, pooled by architecture,
None for a model clone_model cannot copy; cloning leaves the global random state alone."""

from __future__ import annotations

import random
from collections import OrderedDict

import keras
import numpy as np

from convwatch.callbacks import model_copy
from convwatch.callbacks.model_copy import private_copy, snapshot
from tests.arrays import assert_allclose
from tests.callbacks.conftest import MODELS
from tests.callbacks.test_filter_maximization import uncopyable


def test_every_model_shape_gets_a_copy_computing_what_the_model_computes(data):
    x, _ = data
    for kind, make in MODELS.items():
        model = make()
        model(x[:1])  # built
        copy = private_copy(model)
        assert copy is not None, kind
        with copy.loaded(snapshot(model)) as clone:
            assert not {id(v) for v in clone.weights} & {id(v) for v in model.weights}
            assert_allclose(clone(x[:4]), model(x[:4]), rtol=1e-6, err_msg=kind)


def test_a_snapshot_is_a_copy_and_loading_one_leaves_the_model_alone(seq):
    weights = snapshot(seq)
    seq.layers[0].kernel.assign(np.ones(seq.layers[0].kernel.shape, np.float32))
    assert not np.all(weights[0] == 1)  # taken before the change, not a view of the variable
    live = seq.get_weights()
    with private_copy(seq).loaded([w + 1 for w in weights]) as clone:
        np.testing.assert_array_equal(clone.get_weights()[0], weights[0] + 1)
    for before, after in zip(live, seq.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_copies_are_pooled_by_architecture_not_by_model():
    first, second = MODELS["sequential"](), MODELS["sequential"]()
    assert private_copy(first) is private_copy(second)  # same layers, names and input
    other = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3, name="conv")])
    assert private_copy(other) is not private_copy(first)


def test_no_copy_of_what_clone_model_cannot_copy_and_random_state_is_kept(monkeypatch):
    monkeypatch.setattr(model_copy, "_POOL", OrderedDict())  # nothing pooled: clone anew
    model, clone_me = uncopyable(), MODELS["two_branches"]()
    state, numpy_state = random.getstate(), np.random.get_state()[1].copy()
    assert private_copy(model) is None
    assert private_copy(clone_me) is not None  # initialising a clone's weights draws seeds ...
    assert random.getstate() == state  # ... from Python's generator, put back afterwards
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)


def test_captures_of_one_moment_share_a_snapshot_loaded_once(seq, monkeypatch):
    """Between two batches every capture reads the same weights: one copy of them, loaded
    into the private copy once; after a batch (`forget_snapshot`) the next is taken afresh."""
    first = snapshot(seq)
    assert snapshot(seq) is first
    copy = private_copy(seq)
    loads = []
    monkeypatch.setattr(copy.model, "set_weights", lambda w: loads.append(len(w)))
    for _ in range(3):
        with copy.loaded(first):
            pass
    assert len(loads) == 1
    model_copy.forget_snapshot(seq)
    seq.layers[0].kernel.assign(np.ones(seq.layers[0].kernel.shape, np.float32))
    second = snapshot(seq)
    assert second is not first and np.all(second[0] == 1)
    with copy.loaded(second):
        pass
    assert len(loads) == 2
