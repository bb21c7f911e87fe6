"""API of customer feedback: the metrics of a period; survey invitations."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Role, Scope
from khoshnud.cases.access import access_case
from khoshnud.cases.models import Case
from khoshnud.feedback.invitations import FatigueRefused, SurveyInactive, invitation_create
from khoshnud.feedback.metrics import feedback_metrics
from khoshnud.feedback.models import CaseVerdict, Survey
from khoshnud.feedback.ratings import leaderboard, recognition
from khoshnud.feedback.recovery import recovery_metrics, recovery_outcome_record
from khoshnud.feedback.surveys import SurveyNotReady, survey_create
from khoshnud.feedback.verdicts import delight_action_record, verdict_metrics
from khoshnud.inputs import InputError, RowId, clean_date

router = Router(tags=["feedback"])

_METRICS_EXAMPLE = {
    "from": "2026-11-01",
    "to": "2026-11-30",
    "time_zone": "Asia/Tehran",
    "nps": {"value": 20.0, "n": 10, "promoters": 5, "passives": 2, "detractors": 3},
    "csat": {"value": 75.0, "n": 4, "satisfied": 3},
    "ces": {"value": None, "n": 0},
    "delight_rate": {"value": 25.0, "judged": 8, "fell_short": 2, "met": 4, "exceeded": 2},
    "recovery_rate": {"value": 50.0, "opened": 3, "answered_again": 2, "won_back": 1},
}


@router.get("/metrics", openapi_extra={"responses": {200: {"content": {
    "application/json": {"example": _METRICS_EXAMPLE}}}}})  # fmt: skip
def get_metrics(
    request: HttpRequest,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
) -> dict[str, Any]:
    """NPS, CSAT and CES of the answers given from `from` to `to` (YYYY-MM-DD, both days
    included, in the business's time zone; default: the last 30 days up to today). A figure
    without answers is `{"value": null, "n": 0}`. Also the delight rate (verdicts of the
    cases resolved in the period) and the recovery rate (care follow-ups opened in it).
    Definitions: docs/metrics.md."""
    require(request, scope=Scope.READ)
    zone = settings.TIME_ZONE
    start, end = _period(from_, to)
    body = feedback_metrics(start=start, end=end, tz=zone)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "time_zone": zone,
        **body,
        "delight_rate": verdict_metrics(start=start, end=end, tz=zone),
        "recovery_rate": recovery_metrics(start=start, end=end, tz=zone),
    }


class InvitationIn(Schema):
    customer_id: int = Field(..., examples=[42])
    case_id: int | None = Field(None, description="the case the survey follows, if any")


class InvitationOut(Schema):
    id: int
    url: str = Field(..., description="the single-use link (it is not shown again)")
    sent_by: str | None = Field(None, description="email, or null: give the link yourself")
    expires_at: dt.datetime


@router.post(
    "/surveys/{survey_id}/invitations",
    response={201: InvitationOut, 409: dict[str, Any]},
    openapi_extra={"responses": {409: {"description": "refused by the fatigue rule"}}},
)
def post_invitation(
    request: HttpRequest, survey_id: RowId, body: InvitationIn
) -> Status[dict[str, Any]]:
    """Invite a customer to a survey: an unguessable, single-use link that expires after the
    survey's `link_valid_days`, emailed when the customer has an address (logged as an
    outbound interaction). Refused with 409 and `"rule": "fatigue"` when the customer was
    invited (by any survey) within `KHOSHNUD_SURVEY_FATIGUE_DAYS` days; 422 for a survey that
    cannot be sent (no question, inactive)."""
    require(request, scope=Scope.WRITE)
    if not Survey.objects.filter(pk=survey_id).exists():
        raise HttpError(404, f"no survey {survey_id}")
    try:
        invited = invitation_create(
            survey_id=survey_id, customer_id=body.customer_id, case_id=body.case_id
        )
    except FatigueRefused as exc:
        detail = {"detail": str(exc), "rule": exc.rule, "last_invited_at": exc.last_at}
        return Status(409, detail)  # type: ignore[arg-type]
    except (SurveyNotReady, SurveyInactive) as exc:
        raise HttpError(422, str(exc)) from None
    inv = invited.invitation
    return Status(
        201,
        {
            "id": inv.pk,
            "url": invited.url,
            "sent_by": invited.sent_by,
            "expires_at": inv.expires_at,
        },
    )


class QuestionIn(Schema):
    kind: str = Field(..., description="nps, csat, ces, scale, choice or text")
    texts: dict[str, str] = Field(..., examples=[{"en": "How likely are you to recommend us?"}])
    comment_texts: dict[str, str] = Field(default_factory=dict)
    scale_min: int | None = None
    scale_max: int | None = None
    choices: list[dict[str, Any]] = Field(default_factory=list)
    required: bool = True


class SurveyIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    trigger: str = "manual"
    titles: dict[str, str] = Field(default_factory=dict)
    intros: dict[str, str] = Field(default_factory=dict)
    questions: list[QuestionIn]


class SurveyOut(Schema):
    id: int
    name: str
    trigger: str
    active: bool
    questions: int


@router.post("/surveys", response={201: SurveyOut})
def post_survey(request: HttpRequest, body: SurveyIn) -> Status[dict[str, Any]]:
    """Create a survey (managers). A survey without a question, or with a question that
    cannot be shown (no text, a custom scale without ends, a choice with one option), is
    refused with 422 and what is missing."""
    require(request, scope=Scope.WRITE, role=Role.MANAGER)
    try:
        survey = survey_create(
            name=body.name,
            trigger=body.trigger,
            titles=body.titles,
            intros=body.intros,
            questions=[q.dict() for q in body.questions],
        )
    except InputError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201, _survey_out(survey))


@router.get("/surveys", response=list[SurveyOut])
def get_surveys(request: HttpRequest) -> list[dict[str, Any]]:
    """The surveys, oldest first."""
    require(request, scope=Scope.READ)
    return [_survey_out(s) for s in Survey.objects.all()]


def _survey_out(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.pk,
        "name": survey.name,
        "trigger": survey.trigger,
        "active": survey.active,
        "questions": survey.questions.count(),
    }


def _period(from_: str | None, to: str | None) -> tuple[dt.date, dt.date]:
    zone = settings.TIME_ZONE
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    end = clean_date(to, field="to") if to else today
    start = clean_date(from_, field="from") if from_ else end - dt.timedelta(days=29)
    return start, end


def _rating_out(a: Any) -> dict[str, Any]:
    return {
        "agent_id": a.agent_id,
        "name": a.name,
        "n": a.n,
        "mean": round(a.mean, 2),
        "smoothed": round(a.smoothed, 2),
        "csat": a.csat,
    }


@router.get("/agent-ratings")
def get_agent_ratings(
    request: HttpRequest,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    month: str | None = Query(None, description="YYYY-MM: the month's recognition list"),
) -> dict[str, Any]:
    """Managers: the agents' CSAT leaderboard of a period (smoothed average, docs/feedback.md),
    or with `month` the recognition list (at least KHOSHNUD_RECOGNITION_MIN_RATINGS ratings)."""
    require(request, scope=Scope.READ, role=Role.MANAGER)
    if month:
        try:
            year, number = (int(p) for p in month.split("-"))
            dt.date(year, number, 1)
        except ValueError:
            raise HttpError(422, f"month: {month[:20]!r} is not YYYY-MM") from None
        rows = recognition(year=year, month=number)
        return {"month": f"{year:04d}-{number:02d}", "agents": [_rating_out(a) for a in rows]}
    start, end = _period(from_, to)
    rows = leaderboard(start=start, end=end)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "agents": [_rating_out(a) for a in rows],
    }


class OutcomeIn(Schema):
    outcome: str = Field(..., description="resolved, compensated, unreachable or declined")
    note: str = ""


@router.post("/recoveries/{recovery_id}/outcome")
def post_recovery_outcome(
    request: HttpRequest, recovery_id: RowId, body: OutcomeIn
) -> dict[str, Any]:
    """Record what a care follow-up of an unhappy answer did."""
    require(request, scope=Scope.WRITE)
    try:
        recovery = recovery_outcome_record(
            recovery_id=recovery_id, outcome=body.outcome, note=body.note, actor=request.user
        )
    except InputError as exc:
        raise HttpError(404 if exc.field == "recovery_id" else 422, str(exc)) from None
    return {"id": recovery.pk, "outcome": recovery.outcome, "won_back": recovery.won_back}


class DelightIn(Schema):
    note: str = Field(..., min_length=1, max_length=300, examples=["sent a gift card"])


@router.post("/cases/{case_id}/delight", response={201: dict[str, Any]})
def post_delight(request: HttpRequest, case_id: RowId, body: DelightIn) -> Status[dict[str, Any]]:
    """Record a delight action on a case (something beyond the catalog's promise); a case
    inside its targets with one is judged "exceeded"."""
    require(request, scope=Scope.WRITE)
    try:
        access_case(user=request.user, case_id=case_id)  # type: ignore[arg-type]
    except Case.DoesNotExist:
        raise HttpError(404, f"no case {case_id}") from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    try:
        action = delight_action_record(case_id=case_id, note=body.note, actor=request.user)
    except InputError as exc:
        raise HttpError(422, str(exc)) from None
    verdict = CaseVerdict.objects.filter(case_id=case_id).values_list("verdict", flat=True).first()
    return Status(201, {"id": action.pk, "case_id": case_id, "verdict": verdict})
