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


def answers_erase_comments(*, customer_id: int) -> int:
    """Erase handler (customers.references): a comment is the customer's own words."""
    return (
        SurveyResponse.objects.filter(customer_id=customer_id)
        .exclude(comment="")
        .update(comment="")
    )


def recoveries_erase_notes(*, customer_id: int) -> int:
    """Erase handler: a follow-up's note may quote the customer."""
    from khoshnud.feedback.models import Recovery

    return (
        Recovery.objects.filter(customer_id=customer_id)
        .exclude(outcome_note="")
        .update(outcome_note="")
    )
