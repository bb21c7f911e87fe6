"""Metrics against figures computed by hand."""

from __future__ import annotations

import pytest

from khoshnud.language.metrics import format_scores, score


def test_hand_computed_scores() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    s = score(gold, pred)
    # a: P = 2/2, R = 2/3, F1 = 0.8; b: P = 1/2, R = 1/2, F1 = 0.5; c: P = 1/2, R = 1, F1 = 2/3
    assert s.labels["a"].precision == pytest.approx(1.0)
    assert s.labels["a"].recall == pytest.approx(2 / 3)
    assert s.labels["a"].f1 == pytest.approx(0.8)
    assert s.labels["b"].f1 == pytest.approx(0.5)
    assert s.labels["c"].precision == pytest.approx(0.5)
    assert s.labels["c"].f1 == pytest.approx(2 / 3)
    assert s.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert s.accuracy == pytest.approx(4 / 6)
    assert s.n == 6
    assert s.confusion["a"] == {"a": 2, "b": 1, "c": 0}


def test_prediction_outside_the_true_labels_is_an_error_not_a_class() -> None:
    s = score(["a", "a", "b", "b"], ["a", "x", "b", "b"])
    # a: P = 1, R = 1/2, F1 = 2/3; b: P = 1, R = 1, F1 = 1; "x" is not averaged
    assert set(s.labels) == {"a", "b"}
    assert s.macro_f1 == pytest.approx((2 / 3 + 1) / 2)
    assert s.confusion["a"]["x"] == 1
    assert s.accuracy == pytest.approx(3 / 4)


def test_label_never_predicted_has_zero_precision_and_f1() -> None:
    s = score(["a", "b"], ["a", "a"])
    assert s.labels["b"].precision == 0.0 and s.labels["b"].f1 == 0.0
    assert s.labels["a"].precision == pytest.approx(0.5)


def test_empty_and_mismatched() -> None:
    assert score([], []).macro_f1 is None
    with pytest.raises(ValueError):
        score(["a"], [])


def test_format_lists_every_label_and_the_matrix() -> None:
    text = "\n".join(format_scores("need [en]", score(["a", "b"], ["a", "b"])))
    assert "macro-F1=1.000" in text and "confusion" in text
