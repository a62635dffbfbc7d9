"""Classification math on a hand-made prediction set whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from convwatch.techniques.confusion import (
    confusion_matrix,
    errors_by_class,
    most_confused,
    normalize_rows,
    overall_accuracy,
    per_class_accuracy,
    top_k,
)

# Ten examples of three classes. Class 0: 2 right, one taken for 1, one for 2; class 1: all 3
# right; class 2: 2 right, one taken for 0.
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 2, 1, 1, 1, 0, 2, 2])
EXPECTED = np.array([[2, 1, 1], [0, 3, 0], [1, 0, 2]])


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    assert confusion_matrix(Y_TRUE, Y_PRED).tolist() == EXPECTED.tolist()
    # one-hot truth and probability rows give the same matrix (argmax of each row)
    probabilities = np.eye(3)[Y_PRED] * 0.8 + 0.1
    assert confusion_matrix(np.eye(3)[Y_TRUE], probabilities).tolist() == EXPECTED.tolist()
    # a class that never occurs still gets its row and column when num_classes says so
    assert confusion_matrix([0, 1], [1, 1], num_classes=4).tolist() == [
        [0, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]


def test_accuracies_and_errors_by_class():
    assert overall_accuracy(EXPECTED) == pytest.approx(0.7)  # 7 of 10 on the diagonal
    np.testing.assert_allclose(per_class_accuracy(EXPECTED), [2 / 4, 3 / 3, 2 / 3])
    assert errors_by_class(EXPECTED).tolist() == [2, 0, 1]
    # row-normalised: the share of each true class going to each prediction
    np.testing.assert_allclose(
        normalize_rows(EXPECTED), [[0.5, 0.25, 0.25], [0, 1, 0], [1 / 3, 0, 2 / 3]]
    )


def test_empty_classes_give_nan_accuracy_and_zero_rows():
    matrix = confusion_matrix([0, 0], [0, 1], num_classes=3)
    accuracy = per_class_accuracy(matrix)
    assert accuracy[0] == 0.5 and np.isnan(accuracy[1]) and np.isnan(accuracy[2])
    assert normalize_rows(matrix)[2].tolist() == [0, 0, 0]
    assert np.isnan(overall_accuracy(np.zeros((2, 2))))


def test_most_confused_ranks_by_share_of_the_true_class():
    pairs = most_confused(EXPECTED, n=5)
    # 2 -> 0 is a third of class 2; 0 -> 1 and 0 -> 2 are a quarter of class 0 each (id order)
    assert [(p.true, p.predicted, p.count) for p in pairs] == [(2, 0, 1), (0, 1, 1), (0, 2, 1)]
    assert [p.rate for p in pairs] == pytest.approx([1 / 3, 0.25, 0.25])
    assert most_confused(EXPECTED, n=1)[0].true == 2
    assert most_confused(np.diag([3, 4])) == []  # no errors, no pairs


def test_top_k_orders_classes_by_probability():
    probabilities = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    classes, values = top_k(probabilities, k=2)
    assert classes.tolist() == [[1, 2], [0, 2]]
    np.testing.assert_allclose(values, [[0.6, 0.3], [0.5, 0.3]])
    with pytest.raises(ValueError, match="k <= classes"):
        top_k(probabilities, k=4)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix([0, 1], [0])
