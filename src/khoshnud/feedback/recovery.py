"""Closing the loop (seed 000's feedback loop): an unhappy answer — a detractor (NPS 0–6) or a
CSAT of 1–2 — opens a care follow-up case holding the answer; staff record its outcome; the
customer's next NPS or CSAT answer tells whether they were won back: **won back** when it is
no longer unhappy (NPS 7–10, CSAT 3–5), **not won back** otherwise.

Recovery rate (docs/metrics.md) = won back ÷ follow-ups whose customer answered again, over
the follow-ups opened in the period. Answers older than ``KHOSHNUD_RECOVERY_WINDOW_DAYS`` when
they arrive (an imported history) open no follow-up: the moment to call has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from khoshnud.cases.metrics import period_bounds
from khoshnud.cases.models import CaseKind, Priority
from khoshnud.cases.services import case_interaction_attach, case_open
from khoshnud.feedback.models import Recovery, RecoveryOutcome, ScoreKind, SurveyResponse
from khoshnud.inputs import InputError, clean_str
from khoshnud.interactions.models import Channel

logger = logging.getLogger(__name__)
UNHAPPY_MAX: dict[str, int] = {ScoreKind.NPS: 6, ScoreKind.CSAT: 2}


def unhappy(kind: str, score: int | None) -> bool:
    return score is not None and kind in UNHAPPY_MAX and score <= UNHAPPY_MAX[kind]


def _window() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "KHOSHNUD_RECOVERY_WINDOW_DAYS", 7)))


def recoveries_after_answers(
    *, responses: Sequence[SurveyResponse], now: dt.datetime | None = None
) -> list[Recovery]:
    """Close the customers' pending follow-ups with these answers (won back or not), then open
    one for each customer whose new answers are unhappy. Inside the caller's transaction."""
    now = now or timezone.now()
    scored = [r for r in responses if r.kind in UNHAPPY_MAX and r.score is not None]
    by_customer: dict[int, list[SurveyResponse]] = {}
    for r in sorted(scored, key=lambda r: (r.answered_at, r.pk or 0)):
        by_customer.setdefault(r.customer_id, []).append(r)
    opened: list[Recovery] = []
    # One query for the batch (an import of a thousand answers asks once, not per customer).
    pending_of: dict[int, list[Recovery]] = {}
    if by_customer:
        rows = (
            Recovery.objects.select_for_update(of=("self",))
            .filter(customer_id__in=list(by_customer), won_back__isnull=True)
            .select_related("response")
            .order_by("pk")
        )
        for row in rows:
            pending_of.setdefault(row.customer_id, []).append(row)
    for customer_id, answers in by_customer.items():
        for recovery in pending_of.get(customer_id, []):
            later = [a for a in answers if a.answered_at > recovery.response.answered_at]
            if later:
                # The most telling answer of the submission: an unhappy one, if any.
                answer = next((a for a in later if unhappy(a.kind, a.score)), later[0])
                recovery.next_response = answer
                recovery.won_back = not unhappy(answer.kind, answer.score)
                recovery.save(update_fields=["next_response", "won_back"])
        low = next((a for a in answers if unhappy(a.kind, a.score)), None)
        if low is not None and low.answered_at >= now - _window():
            try:
                with transaction.atomic():  # a savepoint: the answer is kept either way
                    opened.append(_open(low, now))
            except InputError as exc:
                logger.warning("no care follow-up for answer %s: %s", low.pk, exc)
    return opened


def _open(answer: SurveyResponse, now: dt.datetime) -> Recovery:
    label = "NPS" if answer.kind == ScoreKind.NPS else "CSAT"
    subject = f"{label} {answer.score}: {' '.join(answer.comment.split())}".strip(": ")[:200]
    channel = answer.channel if answer.channel in Channel.values else Channel.WEB
    case = case_open(
        customer_id=answer.customer_id,
        kind=CaseKind.CARE,
        channel=channel,
        subject=subject,
        priority=Priority.HIGH,
        opened_at=now,
    )
    if answer.interaction_id is not None:
        case_interaction_attach(case_id=case.pk, interaction_id=answer.interaction_id)
    return Recovery.objects.create(
        response=answer, customer_id=answer.customer_id, case=case, opened_at=now
    )


def recovery_outcome_record(
    *,
    recovery_id: int,
    outcome: object,
    note: object = "",
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> Recovery:
    """Record what the care follow-up did (resolved, compensated, unreachable, declined)."""
    if outcome not in RecoveryOutcome.values or outcome == RecoveryOutcome.OPEN:
        allowed = ", ".join(v for v in RecoveryOutcome.values if v != RecoveryOutcome.OPEN)
        raise InputError("outcome", f"{outcome!r} is not one of {allowed}")
    text = clean_str(note, field="note", max_length=2000, required=False)
    with transaction.atomic():
        recovery = Recovery.objects.select_for_update().filter(pk=recovery_id).first()
        if recovery is None:
            raise InputError("recovery_id", f"no care follow-up {recovery_id}")
        recovery.outcome = str(outcome)
        recovery.outcome_note = text
        recovery.outcome_at = timezone.now()
        recovery.save(update_fields=["outcome", "outcome_note", "outcome_at"])
    return recovery


def recovery_metrics(*, start: dt.date, end: dt.date, tz: str | None = None) -> dict[str, Any]:
    """Follow-ups opened in the period: how many, answered again, won back; the rate."""
    lower, upper = period_bounds(start, end, tz or settings.TIME_ZONE)
    counts = Recovery.objects.filter(opened_at__gte=lower, opened_at__lt=upper).aggregate(
        opened=Count("id"),
        answered_again=Count("id", filter=Q(won_back__isnull=False)),
        won_back=Count("id", filter=Q(won_back=True)),
    )
    counts = {k: int(v or 0) for k, v in counts.items()}
    return {**counts, "value": recovery_rate(counts["won_back"], counts["answered_again"])}


def recovery_rate(won_back: int, answered_again: int) -> float | None:
    return None if answered_again == 0 else round(100 * won_back / answered_again, 1)


def recoveries_case_resolved(*, case_id: int, at: dt.datetime | None = None) -> int:
    """The care case of a follow-up was resolved: its outcome is "resolved" unless staff
    recorded another one, dated ``at`` (the resolution recorded after the fact) or now.
    Idempotent."""
    return Recovery.objects.filter(case_id=case_id, outcome=RecoveryOutcome.OPEN).update(
        outcome=RecoveryOutcome.RESOLVED, outcome_at=at or timezone.now()
    )
