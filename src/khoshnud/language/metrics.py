"""Classification metrics: per-label precision / recall / F1, macro-F1, confusion matrix.

Definitions (also in docs/language.md):
- precision(L) = correct L predictions / all L predictions (0 when nothing was predicted L);
- recall(L) = correct L predictions / messages whose true label is L;
- F1(L) = 2·P·R / (P + R), 0 when P + R = 0;
- macro-F1 = mean of F1(L) over the labels L that occur as TRUE labels in the data. A prediction
  outside those labels is an error (it lowers the recall of the true label, and the precision
  of nothing in the average), not a class of its own;
- accuracy = correct predictions / messages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LabelScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Scores:
    """Scores of one task on one slice of the data (e.g. need, Persian)."""

    n: int
    accuracy: float | None
    macro_f1: float | None
    labels: dict[str, LabelScore]
    confusion: dict[str, dict[str, int]]  # true label → predicted label → count


def score(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Scores of ``predicted`` against ``gold`` (same length, same order)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} true labels but {len(predicted)} predictions")
    n = len(gold)
    if n == 0:
        return Scores(n=0, accuracy=None, macro_f1=None, labels={}, confusion={})
    pairs = Counter(zip(gold, predicted, strict=True))
    true_counts = Counter(gold)
    predicted_counts = Counter(predicted)
    labels: dict[str, LabelScore] = {}
    for label in sorted(true_counts):
        hits = pairs[(label, label)]
        precision = hits / predicted_counts[label] if predicted_counts[label] else 0.0
        recall = hits / true_counts[label]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        labels[label] = LabelScore(precision, recall, f1, true_counts[label])
    columns = sorted(set(true_counts) | set(predicted_counts))
    confusion = {
        label: {column: pairs[(label, column)] for column in columns}
        for label in sorted(true_counts)
    }
    correct = sum(pairs[(label, label)] for label in true_counts)
    return Scores(
        n=n,
        accuracy=correct / n,
        macro_f1=sum(s.f1 for s in labels.values()) / len(labels),
        labels=labels,
        confusion=confusion,
    )


def format_scores(title: str, scores: Scores) -> list[str]:
    """Readable lines: per-label precision / recall / F1, then the confusion matrix."""
    if scores.n == 0:
        return [f"{title}: no messages"]
    lines = [
        f"{title}: n={scores.n} accuracy={scores.accuracy:.3f} macro-F1={scores.macro_f1:.3f}",
        f"  {'label':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>6}",
    ]
    for label, s in scores.labels.items():
        lines.append(
            f"  {label:<10} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>6}"
        )
    columns = list(next(iter(scores.confusion.values())).keys())
    lines.append("  confusion (rows: true, columns: predicted)")
    lines.append("  " + " " * 10 + "".join(f"{c[:9]:>10}" for c in columns))
    for label, row in scores.confusion.items():
        lines.append(f"  {label:<10}" + "".join(f"{row[c]:>10}" for c in columns))
    return lines
