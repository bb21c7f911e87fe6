"""The verdict of a resolved case: fell short, met or exceeded (docs/metrics.md, "Verdict")."""

from __future__ import annotations

from collections.abc import Sequence

from khoshnud.feedback.models import SurveyResponse


def verdicts_after_answers(*, responses: Sequence[SurveyResponse]) -> None:
    return None
