"""The verdict of a resolved case (seed 004): did it fall short of, meet or exceed what the
customer expected? Judged against its catalog entry (its due times) and its feedback.

- **fell short**: a target breached — first response after its due time (or none by the
  resolution), resolution after its due time — or a low score on an answer about the case
  (NPS 0–6, CSAT 1–2, CES 1–2);
- **exceeded** (delighted): inside every target, no low score, and either a top score (CSAT 5,
  NPS 9–10, CES 7) or a recorded delight action;
- **met**: the rest — inside the targets, no low score, no top score or delight action.

A case without a catalog entry has no targets: only its feedback judges it. The verdict is
decided when the case is resolved and again when an answer about it arrives or a delight
action is recorded; a reopened case loses its verdict until it is resolved again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from khoshnud.cases.metrics import period_bounds
from khoshnud.cases.models import Case, CaseStatus
from khoshnud.db import datetime_adapter, insert_rows, json_adapter, update_rows
from khoshnud.feedback.models import CaseVerdict, DelightAction, SurveyResponse, Verdict
from khoshnud.inputs import InputError, clean_str

LOW = {"nps": 6, "csat": 2, "ces": 2}  # at or below: a low score
TOP = {"nps": 9, "csat": 5, "ces": 7}  # at or above: a top score


def judge(
    *,
    first_response_due: dt.datetime | None,
    first_responded_at: dt.datetime | None,
    resolution_due: dt.datetime | None,
    resolved_at: dt.datetime,
    scores: Iterable[tuple[str, int]],
    delighted: bool,
) -> tuple[str, list[str]]:
    """The verdict and its reasons (codes) from a case's facts — the pure rule."""
    reasons: list[str] = []
    if first_response_due is not None:
        answered = first_responded_at if first_responded_at is not None else resolved_at
        if answered > first_response_due:
            reasons.append("first_response_late")
    if resolution_due is not None and resolved_at > resolution_due:
        reasons.append("resolution_late")
    scored = [(k, s) for k, s in scores if k in LOW]
    if any(s <= LOW[k] for k, s in scored):
        reasons.append("low_score")
    if reasons:
        return Verdict.FELL_SHORT, reasons
    if any(s >= TOP[k] for k, s in scored):
        reasons.append("top_score")
    if delighted:
        reasons.append("delight_action")
    return (Verdict.EXCEEDED if reasons else Verdict.MET), reasons


def case_verdict_decide(*, case_id: int, now: dt.datetime | None = None) -> CaseVerdict | None:
    """Decide (again) the verdict of a case; None for a case that is not resolved."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return None
    if case.resolved_at is None or case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        CaseVerdict.objects.filter(case_id=case_id).delete()
        return None
    scores = SurveyResponse.objects.filter(case_id=case_id, score__isnull=False).values_list(
        "kind", "score"
    )
    verdict, reasons = judge(
        first_response_due=case.first_response_due,
        first_responded_at=case.first_responded_at,
        resolution_due=case.resolution_due,
        resolved_at=case.resolved_at,
        scores=[(kind, score) for kind, score in scores if score is not None],
        delighted=DelightAction.objects.filter(case_id=case_id).exists(),
    )
    row, _created = CaseVerdict.objects.update_or_create(
        case_id=case_id,
        defaults={
            "verdict": verdict,
            "reasons": reasons,
            "resolved_at": case.resolved_at,
            "decided_at": now or timezone.now(),
        },
    )
    return row


def verdicts_after_answers(*, responses: Sequence[SurveyResponse]) -> None:
    verdicts_decide(case_ids=[r.case_id for r in responses if r.case_id is not None])


def verdicts_decide(
    *, case_ids: Iterable[int], now: dt.datetime | None = None, historical: bool = False
) -> int:
    """``case_verdict_decide`` for many cases at once (an import of answers, a history of
    resolutions): the same verdicts, from three reads and bulk writes per thousand cases.
    ``historical``: a history judged after the fact — each verdict is dated when the last fact
    that decides it happened (the resolution, the latest answer about the case, the latest
    delight action), as the worker would have dated it then; otherwise ``now``. (The insights
    refresh finds changed verdicts by ``decided_at``: a historical call is for a history whose
    rollups are rebuilt after it.) → how many cases have a verdict now."""
    ids = sorted({int(i) for i in case_ids})
    decided_at = now or timezone.now()
    at, as_json = datetime_adapter(), json_adapter()
    judged = 0
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with transaction.atomic():  # one chunk's reads and writes together
            cases = list(Case.objects.filter(pk__in=chunk))
            done = [
                c for c in cases
                if c.resolved_at is not None and c.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            ]  # fmt: skip
            CaseVerdict.objects.filter(case_id__in=chunk).exclude(
                case_id__in=[c.pk for c in done]
            ).delete()
            scores: dict[int, list[tuple[str, int]]] = {}
            last_fact: dict[int, dt.datetime] = {}
            for case_id, kind, score, answered_at in SurveyResponse.objects.filter(
                case_id__in=chunk, score__isnull=False
            ).values_list("case_id", "kind", "score", "answered_at"):
                if score is not None and case_id is not None:
                    scores.setdefault(case_id, []).append((kind, score))
                    last_fact[case_id] = max(answered_at, last_fact.get(case_id, answered_at))
            delighted: set[int] = set()
            for case_id, created_at in DelightAction.objects.filter(case_id__in=chunk).values_list(
                "case_id", "created_at"
            ):
                delighted.add(case_id)
                last_fact[case_id] = max(created_at, last_fact.get(case_id, created_at))
            existing = dict(
                CaseVerdict.objects.filter(case_id__in=chunk).values_list("case_id", "pk")
            )
            new: list[tuple[Any, ...]] = []
            changed: list[tuple[Any, ...]] = []
            for case in done:
                assert case.resolved_at is not None
                verdict, reasons = judge(
                    first_response_due=case.first_response_due,
                    first_responded_at=case.first_responded_at,
                    resolution_due=case.resolution_due,
                    resolved_at=case.resolved_at,
                    scores=scores.get(case.pk, []),
                    delighted=case.pk in delighted,
                )
                when = decided_at
                if historical:
                    when = max(case.resolved_at, last_fact.get(case.pk, case.resolved_at))
                row = (verdict, as_json(reasons), at(case.resolved_at), at(when))
                if case.pk in existing:
                    changed.append((existing[case.pk], *row))
                else:
                    new.append((case.pk, *row))
            # Multi-row statements, the values prepared once (bulk_create and bulk_update prepare
            # each value through its field, and bulk_update builds a CASE per row and field:
            # seconds per thousand verdicts on SQLite).
            columns = ("verdict", "reasons", "resolved_at", "decided_at")
            types = ("text", "jsonb", "timestamptz", "timestamptz")
            insert_rows(
                table=CaseVerdict._meta.db_table,
                columns=("case_id", *columns),
                rows=new,
                types=("bigint", *types),
            )
            update_rows(
                table=CaseVerdict._meta.db_table, columns=columns, rows=changed, types=types
            )
            judged += len(done)
    return judged


def delight_action_record(
    *, case_id: int, note: object, actor: AbstractBaseUser | AnonymousUser | None
) -> DelightAction:
    """Record something done beyond the catalog's promise for a case; decides its verdict."""
    text = clean_str(note, field="note", max_length=300)
    if not Case.objects.filter(pk=case_id).exists():
        raise InputError("case_id", f"no case {case_id}")
    with transaction.atomic():
        action = DelightAction.objects.create(
            case_id=case_id, note=text, actor=actor if isinstance(actor, User) else None
        )
        case_verdict_decide(case_id=case_id)
    return action


def verdict_metrics(*, start: dt.date, end: dt.date, tz: str | None = None) -> dict[str, Any]:
    """The verdicts of the cases resolved in the period; delight rate = exceeded / judged."""
    lower, upper = period_bounds(start, end, tz or settings.TIME_ZONE)
    counts = CaseVerdict.objects.filter(resolved_at__gte=lower, resolved_at__lt=upper).aggregate(
        judged=Count("id"),
        fell_short=Count("id", filter=Q(verdict=Verdict.FELL_SHORT)),
        met=Count("id", filter=Q(verdict=Verdict.MET)),
        exceeded=Count("id", filter=Q(verdict=Verdict.EXCEEDED)),
    )
    counts = {k: int(v or 0) for k, v in counts.items()}
    return {**counts, "value": delight_rate(counts["exceeded"], counts["judged"])}


def delight_rate(exceeded: int, judged: int) -> float | None:
    return None if judged == 0 else round(100 * exceeded / judged, 1)
