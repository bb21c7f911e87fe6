"""Closing the loop: an unhappy answer opens a care follow-up (docs/metrics.md, "Recovery")."""

from __future__ import annotations

from collections.abc import Sequence

from khoshnud.feedback.models import SurveyResponse


def recoveries_after_answers(*, responses: Sequence[SurveyResponse]) -> None:
    return None
