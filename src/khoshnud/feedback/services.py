"""Writes of the feedback app: answers recorded (from the page, the API, an import)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from khoshnud.feedback.models import SurveyResponse


def responses_record(*, responses: Sequence[SurveyResponse]) -> list[SurveyResponse]:
    """Store answers (unsaved ``SurveyResponse`` objects) and what follows from them: a care
    follow-up for an unhappy one, the verdict of the case they rate. Transactional."""
    with transaction.atomic():
        stored = SurveyResponse.objects.bulk_create(list(responses))
        answers_followed_up(responses=stored)
    return stored


def answers_followed_up(*, responses: Sequence[SurveyResponse]) -> None:
    """What new answers set off (filled in by the recovery and verdict work)."""
    from khoshnud.feedback.recovery import recoveries_after_answers
    from khoshnud.feedback.verdicts import verdicts_after_answers

    recoveries_after_answers(responses=responses)
    verdicts_after_answers(responses=responses)
