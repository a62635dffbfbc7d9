"""Steps until a trace is within ±tolerance of its target, when it settles, and its peak."""

from __future__ import annotations

import numpy as np

from convwatch.techniques.convergence import peak, settled_step, steps_to_within, within

# A pixel's (R, G, B) over 5 captures, heading for (255, 0, 0) with tolerance 2.
TRACE = np.array(
    [
        [28.0, 25.0, -49.0],  # untrained
        [9175.0, 9200.0, 9199.0],  # the explosion after one step at learning rate 1.0
        [254.0, 1.0, 2.0],  # inside: every channel within ±2 (2 is on the edge, counted in)
        [255.0, 3.0, 0.0],  # out again: G is 3 away
        [255.5, 0.5, -1.0],  # inside to the end
    ]
)
TARGET = (255, 0, 0)


def test_within_checks_every_channel_at_once():
    assert within(TRACE, TARGET, 2.0).tolist() == [False, False, True, False, True]


def test_first_step_within_tolerance():
    assert steps_to_within(TRACE, TARGET, 2.0) == 2  # row 2, counted from step 0
    assert steps_to_within(TRACE, TARGET, 2.0, steps=[0, 1, 2, 3, 4]) == 2
    assert steps_to_within(TRACE, TARGET, 2.0, steps=[0, 10, 20, 30, 40]) == 20
    assert steps_to_within(TRACE, TARGET, 0.1) is None  # never that close


def test_settled_is_from_the_last_entry_into_the_band():
    assert settled_step(TRACE, TARGET, 2.0, steps=[0, 10, 20, 30, 40]) == 40
    assert settled_step(TRACE[:4], TARGET, 2.0) is None  # ends outside
    assert settled_step(TRACE[2:3], TARGET, 2.0, steps=[7]) == 7  # inside throughout


def test_peak_per_channel_and_its_step():
    top, step = peak(TRACE, steps=[0, 10, 20, 30, 40])
    np.testing.assert_allclose(top, [9175.0, 9200.0, 9199.0])
    assert step == 10


def test_one_channel_traces_and_nans():
    values = np.array([1.0, np.nan, 5.0, 3.0])
    assert steps_to_within(values, 5.0, 0.0) == 2
    top, step = peak(values)
    assert top.tolist() == [5.0] and step == 2
    top, step = peak(np.full((3, 2), np.nan))
    assert np.isnan(top).all() and step is None
