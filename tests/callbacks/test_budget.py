"""The capture budget: training timed, work granted by what fits, the last epoch always drawn,
what was thinned written down; None draws everything."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from convwatch.callbacks import ActivationCapture, Capture, FilterMaximization, budget
from convwatch.callbacks.budget import Ledger, check_fraction, default_budget, default_fraction


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def timed_ledger(monkeypatch, fraction=0.2, epochs=4, steps=10, batch_s=1.0) -> Ledger:
    """A ledger that has seen 3 batches of `batch_s` seconds: a fit of epochs * steps batches."""
    clock = FakeClock()
    monkeypatch.setattr(budget.time, "perf_counter", clock)
    ledger = Ledger(fraction)
    ledger.members.append(object())
    ledger.train_begin({"epochs": epochs, "steps": steps})
    ledger.epoch_begin()
    for _ in range(3):
        ledger.batch_begin()
        clock.now += batch_s
        ledger.batch_end()
    return ledger


def test_the_fit_is_projected_from_its_batches_then_its_epochs(monkeypatch):
    ledger = timed_ledger(monkeypatch)
    assert ledger.projected_fit() == pytest.approx(40.0)  # 10 batches of 1 s, 4 epochs
    budget.time.perf_counter.now += 7.0  # the rest of the epoch, with 1 s of capture work
    ledger.on_training_thread(1.0)
    ledger.epoch_end()
    assert ledger.projected_fit() == pytest.approx(36.0)  # 10 s - 1 s of captures, 4 times


def test_the_first_batch_traces_once_not_once_an_epoch(monkeypatch):
    """The first batch builds and traces the training step (often most of a short fit): the
    projection counts it once, from the batches and from the first epoch alike."""
    clock = FakeClock()
    monkeypatch.setattr(budget.time, "perf_counter", clock)
    ledger = Ledger(0.2)
    ledger.members.append(object())
    ledger.train_begin({"epochs": 3, "steps": 10})
    ledger.epoch_begin()
    for took in (11.0, 1.0, 1.0):
        ledger.batch_begin()
        clock.now += took
        ledger.batch_end()
    assert ledger.projected_fit() == pytest.approx(11.0 + 29 * 1.0)
    clock.now += 7.0  # the epoch's 7 other batches
    ledger.epoch_end()
    assert ledger.projected_fit() == pytest.approx(20.0 + 2 * 10.0)


def test_a_grant_is_the_largest_scale_whose_cost_fits(monkeypatch):
    ledger = timed_ledger(monkeypatch)  # 40 s of training, 8 s allowed at 0.2
    capture = ledger.members[0]

    def units(scale):  # the capture predicts 10 s at scale 1
        return 10.0 * scale

    # epoch 0 of 4: half the allowance paced over 4 epochs, 1 s; the prediction counts 1.5x
    grant = ledger.grant(capture, units, epoch=0, final=False)
    assert grant.scale == 0.05 and "budget 0.2 of 40.0 s" in grant.reason
    ledger.charge(capture, units(0.05), 0.5, final=False)
    # measured: 0.5 s for 0.5 s predicted; 1.5 s left of the 2 s paced by epoch 1 buys 0.12
    assert ledger.grant(capture, units, epoch=1, final=False).scale == 0.12
    # the last epoch has what is left: 7.5 s, at the measured 1 s per predicted s
    assert ledger.grant(capture, units, epoch=3, final=True).scale == 0.7


def test_the_last_epoch_is_always_drawn_and_others_skip_when_nothing_fits(monkeypatch):
    ledger = timed_ledger(monkeypatch, fraction=0.01)  # 0.4 s allowed

    def units(scale):
        return 100.0 * scale  # 1 s even at the smallest scale

    skipped = ledger.grant(ledger.members[0], units, epoch=0, final=False)
    assert skipped.scale is None and "too little" in skipped.reason
    final = ledger.grant(ledger.members[0], units, epoch=3, final=True)
    assert final.scale == budget.SCALES[-1] and "over budget" in final.reason


def test_captures_granted_side_by_side_share_what_is_left(monkeypatch):
    ledger = timed_ledger(monkeypatch)  # 40 s of training, 8 s allowed at 0.2
    captures = [object(), object(), object()]
    ledger.members[:] = captures
    ledger._finals_left = {id(c) for c in captures}

    def units(scale):  # 10 s at scale 1, 15 s with the prior's margin
        return 10.0 * scale

    for capture in captures:  # an epoch's captures: each says what it would cost
        ledger.grant(capture, units, epoch=0, final=False)
        ledger.release(capture)
    # the last epoch's captures all ask before any is charged: together within the 8 s
    grants = [ledger.grant(c, units, epoch=3, final=True) for c in captures]
    assert sum(1.5 * units(g.scale) for g in grants) <= 8.0
    ledger.charge(captures[0], units(grants[0].scale), 1.0, final=True)
    ledger.release(captures[0])
    ledger.release(captures[1])  # its work raised: nothing charged, nothing held
    again = ledger.grant(captures[1], units, epoch=3, final=True)
    assert 1.5 * units(again.scale) <= 8.0 - 1.0 - 1.5 * units(grants[2].scale)


def test_no_budget_grants_everything_at_once():
    ledger = Ledger(None)  # never timed: no wait either
    assert ledger.grant(object(), lambda s: 1e9, epoch=0, final=False).scale == 1.0


def test_budget_values_and_the_default(monkeypatch):
    assert check_fraction(None) is None and check_fraction(0.5) == 0.5
    for bad in (0, -1, float("nan"), "0.2", True):
        with pytest.raises(ValueError, match="budget must be None .* Received"):
            check_fraction(bad)
    monkeypatch.delenv(budget.ENV)
    assert default_fraction() == 0.2
    monkeypatch.setenv(budget.ENV, "0.5")
    assert default_fraction() == 0.5
    with default_budget(None):
        assert default_fraction() is None
    monkeypatch.setenv(budget.ENV, "lots")
    with pytest.raises(ValueError, match="CONVWATCH_CAPTURE_BUDGET"):
        default_fraction()
    with pytest.raises(ValueError, match="budget"):
        ActivationCapture(np.zeros((1, 4, 4, 1)), budget=-0.1)


class Slow(Capture):
    """A capture whose work takes 30 s per unit of scale (it predicts so, too)."""

    budgeted = True
    SECONDS = 30.0

    def capture(self, tag, epoch, step):
        final = self._final
        self.later(self.sized, tag, epoch, final, self.predict, self.work)

    def predict(self, scale):
        return self.SECONDS * scale

    def work(self, scale):
        time.sleep(self.SECONDS * scale)
        return f"{scale:g} of it"


def _fit(model, callbacks, epochs=3):
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 64)
    model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks)
    return x


def test_a_slow_capture_is_thinned_its_last_epoch_kept_and_it_says_so(seq, tmp_path, caplog):
    slow = Slow(tmp_path, budget=0.2)
    with caplog.at_level("INFO", logger="convwatch.callbacks.capture"):
        _fit(seq, [slow])
    log = json.loads((tmp_path / "budget.json").read_text())["captures"]
    assert [e["tag"] for e in log] == ["epoch000", "epoch001", "epoch002", "epoch003"]
    # training a few tenths of a second cannot pay for 0.3 s of work before the last epoch
    assert all(e["scale"] is None for e in log[:-1])
    assert log[-1]["scale"] == budget.SCALES[-1] and log[-1]["drawn"] == "0.01 of it"
    assert all("budget 0.2 of" in e["why"] for e in log)
    assert "Slow: epoch001 skipped (budget 0.2 of" in caplog.text
    (note,) = slow.run_notes()
    assert note.startswith("Slow kept the capture budget: epoch000 skipped;")


def test_the_captures_of_one_fit_share_one_budget(seq, tmp_path):
    probe = np.zeros((2, 12, 12, 1), np.float32)
    one = ActivationCapture(probe, out_dir=tmp_path / "a", budget=0.5)
    other = ActivationCapture(probe, out_dir=tmp_path / "b")  # takes the fit's: 0.5
    _fit(seq, [one, other], epochs=1)
    assert one._ledger is other._ledger and other._ledger.fraction == 0.5
    clash = ActivationCapture(probe, out_dir=tmp_path / "c", budget=0.1)
    with pytest.raises(ValueError, match="share one budget.*budget=0.1.*budget=0.5"):
        _fit(seq, [ActivationCapture(probe, out_dir=tmp_path / "d", budget=0.5), clash])


def test_under_a_budget_the_trained_network_is_captured_whatever_the_schedule(seq, tmp_path):
    probe = np.random.default_rng(0).random((40, 12, 12, 1), dtype=np.float32)
    callback = FilterMaximization(probe, out_dir=tmp_path, every_n_epochs=5, budget=0.05)
    _fit(seq, [callback], epochs=2)
    assert (tmp_path / "conv_epoch002.npz").exists()  # epoch 2 was not on the schedule
    log = json.loads((tmp_path / "budget.json").read_text())["captures"]
    assert log[-1]["tag"] == "epoch002" and log[-1]["scale"] is not None
    assert "layers" in log[-1]["drawn"] and "probe images" in log[-1]["drawn"]


def test_an_atlas_thinned_at_one_epoch_and_full_at_another_still_animates(
    seq, tmp_path, monkeypatch
):
    from PIL import Image

    def grant(self, capture, units, epoch, final, scales=budget.SCALES, wait=True):
        return budget.Grant(1.0 if final else scales[-1], "as the test sets")

    monkeypatch.setattr(Ledger, "grant", grant)
    probe = np.random.default_rng(0).random((40, 12, 12, 1), dtype=np.float32)
    _fit(seq, [FilterMaximization(probe, out_dir=tmp_path, budget=0.2)], epochs=2)
    sizes = [Image.open(tmp_path / f"conv_epoch00{e}.png").size for e in (0, 2)]
    assert sizes[0] != sizes[1]  # one filter at epoch 0, all of them at the last epoch
    with Image.open(tmp_path / "conv.gif") as gif:
        assert gif.n_frames == 3 and gif.size == tuple(map(max, *sizes))


def test_a_run_refuses_a_bad_capture_budget_before_any_folder():
    from convwatch.errors import ConvwatchError
    from convwatch.run.captures import check_callbacks

    check_callbacks({"ActivationCapture": {"budget": 0.3}, "EmbeddingProjector": {"budget": None}})
    for name in ("ActivationCapture", "FilterMaximization", "EmbeddingProjector"):
        with pytest.raises(ConvwatchError, match=f"callbacks.{name}.budget"):
            check_callbacks({name: {"budget": -1}})


def test_under_a_budget_a_model_without_a_copy_is_captured_in_place(tmp_path):
    """A model built by its first batch (no Input) and one clone_model cannot copy have their
    captures read on the training thread; the budget sizes those too."""
    import keras

    from convwatch.callbacks import EmbeddingProjector
    from tests.callbacks.conftest import unbuilt_sequential
    from tests.callbacks.test_filter_maximization import uncopyable

    for make in (unbuilt_sequential, uncopyable):
        keras.utils.set_random_seed(0)
        model = make()
        model.compile("adam", "sparse_categorical_crossentropy")
        folder = tmp_path / make.__name__
        probe = np.random.default_rng(1).random((8, 12, 12, 1), dtype=np.float32)
        captures = [
            ActivationCapture(probe, out_dir=folder / "maps", budget=0.2),
            FilterMaximization(probe, out_dir=folder / "atlas"),
            EmbeddingProjector(probe, np.arange(8) % 3, out_dir=folder / "map"),
        ]
        _fit(model, captures, epochs=1)
        for capture in ("maps", "atlas", "map"):
            log = json.loads((folder / capture / "budget.json").read_text())["captures"]
            assert log[-1]["tag"] == "epoch001" and log[-1]["scale"] is not None, make.__name__
        assert (folder / "maps" / "activations_epoch001.npz").exists()


def test_under_a_budget_a_big_model_is_read_live_without_a_copy(seq, tmp_path, monkeypatch):
    """A copy's weights, their snapshot and its reads beside training cost more memory than
    small budgeted captures of a big model are worth: under a budget a model of more than
    `COPY_BYTES` of weights has none; a small one, or any without a budget, has one."""
    from convwatch.callbacks import model_copy as copies

    probe = np.zeros((2, 12, 12, 1), np.float32)
    small = ActivationCapture(probe, out_dir=tmp_path / "small", budget=0.2)
    _fit(seq, [small], epochs=1)
    monkeypatch.setattr(copies, "COPY_BYTES", seq.count_params() * 4 - 1)
    big = ActivationCapture(probe, out_dir=tmp_path / "big", budget=0.2)
    _fit(seq, [big], epochs=1)
    everything = ActivationCapture(probe, out_dir=tmp_path / "all", budget=None)
    _fit(seq, [everything], epochs=1)
    assert small._copy is not None and big._copy is None and everything._copy is not None
    assert (tmp_path / "big" / "activations_epoch001.npz").exists()
