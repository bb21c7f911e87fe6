"""API for cases: open one by hand, read one, list a customer's cases, change one (status,
priority, hand-off, assignee, product), reply to one, add an internal note; an agent's
availability for routing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Role, Scope
from khoshnud.cases.access import access_case, access_case_kind, cases_visible_to
from khoshnud.cases.assignment import agent_availability_set
from khoshnud.cases.models import Case, CaseRule
from khoshnud.cases.products import case_product_set
from khoshnud.cases.replies import CaseClosed, case_reply
from khoshnud.cases.rules import case_rule_set, case_rules
from khoshnud.cases.selectors import case_interaction_ids, case_summary
from khoshnud.cases.services import (
    case_assign,
    case_kind_change,
    case_note_add,
    case_open,
    case_priority_set,
    case_status_set,
)
from khoshnud.inputs import InputError

router = Router(tags=["cases"])


class CaseIn(Schema):
    customer_id: int
    kind: str = Field(..., examples=["support"], description="service, support or care")
    channel: str = Field(..., examples=["phone"])
    subject: str = ""
    opened_at: str | None = Field(
        None,
        examples=["2026-12-02T14:00:00+03:30"],
        description="ISO 8601 with an offset; default now. Due times count from it.",
    )
    priority: str = "normal"
    product: str = Field(
        "",
        examples=["ESP-DARK-1KG"],
        description="the SKU of the product the case is about; without one it is inferred "
        "from the customer's latest order placed before the case opened (docs/metrics.md)",
    )


class CaseOut(Schema):
    id: int
    customer_id: int
    kind: str
    status: str
    priority: str
    team: str | None
    assignee: str | None
    channel: str
    subject: str
    tags: list[str]
    time_zone: str = Field(..., description="the business calendar's zone; times carry its offset")
    opened_at: dt.datetime
    first_response_due: dt.datetime | None
    resolution_due: dt.datetime | None
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    paused_at: dt.datetime | None = Field(
        None, description="set while the case waits on the customer: its SLA clock is stopped"
    )
    first_response_breached_at: dt.datetime | None = Field(
        None, description="when the breach scan found the first-response target missed"
    )
    resolution_breached_at: dt.datetime | None = None
    follow_up_of: int | None = Field(None, description="the case this care follow-up follows")
    product: str | None = Field(None, description="the SKU of the product the case is about")
    product_source: str | None = Field(
        None,
        description="set (by a person or the API), order (inferred from the latest earlier "
        "order), none (no earlier order) or null (not looked at yet)",
    )
    interaction_ids: list[int]


def _out(cases: list[Case]) -> list[dict[str, Any]]:
    threads = case_interaction_ids(case_ids=[c.pk for c in cases])
    return [case_summary(c, threads[c.pk]) for c in cases]


@router.post("/cases", response={201: CaseOut})
def create_case(request: HttpRequest, payload: CaseIn) -> Status[dict[str, Any]]:
    """Open a case by hand (a phone call, a visit). An agent may open only the kinds their
    team serves; due times come from the service catalog, counted from `opened_at`."""
    require(request, scope=Scope.WRITE)
    try:
        access_case_kind(user=request.user, kind=payload.kind)
        case = case_open(
            customer_id=payload.customer_id,
            kind=payload.kind,
            channel=payload.channel,
            subject=payload.subject,
            opened_at=payload.opened_at,
            priority=payload.priority,
            actor=request.user,
            product=payload.product,
        )
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    except InputError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(
        201, _out([Case.objects.select_related("team", "assignee", "product").get(pk=case.pk)])[0]
    )


@router.get("/cases/{case_id}", response=CaseOut)
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """One case with its thread's interaction ids (oldest first)."""
    require(request, scope=Scope.READ)
    try:
        case = access_case(user=request.user, case_id=case_id)
    except Case.DoesNotExist:
        raise HttpError(404, f"no case #{case_id}") from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return _out([case])[0]


@router.get("/cases", response=list[CaseOut])
def list_cases(
    request: HttpRequest,
    customer_id: int | None = None,
    status: str = "",
    kind: str = "",
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The cases you may see, newest first: filter by `customer_id`, `status`, `kind`;
    `limit` 1–200."""
    require(request, scope=Scope.READ)
    if not 1 <= limit <= 200:
        raise HttpError(422, "limit: must be between 1 and 200")
    qs = cases_visible_to(user=request.user).select_related("team", "assignee", "product")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return _out(list(qs.order_by("-opened_at", "-id")[:limit]))


@contextmanager
def _desk_errors(case_id: int) -> Iterator[None]:
    """The desk's refusals as HTTP: 404 unknown case, 403 another team's, 422 a field."""
    try:
        yield
    except Case.DoesNotExist:
        raise HttpError(404, f"no case #{case_id}") from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    except InputError as exc:
        raise HttpError(422, str(exc)) from None


class CasePatch(Schema):
    kind: str | None = Field(
        None, examples=["support"], description="hand the case off to this kind's team"
    )
    assignee_id: int | None = Field(
        None, description="an agent of the case's team; null unassigns (only when sent)"
    )
    status: str | None = Field(
        None, examples=["resolved"], description="open, waiting, resolved or closed"
    )
    priority: str | None = Field(None, examples=["high"], description="low, normal, high, urgent")
    product: str | None = Field(
        None, examples=["GRD-1"], description="a product's SKU; an empty string clears it"
    )
    reason: str = Field("", max_length=200, description="kept in the case history")


@router.patch("/cases/{case_id}", response=CaseOut)
def change_case(request: HttpRequest, case_id: int, payload: CasePatch) -> dict[str, Any]:
    """Change a case as the desk does: hand it off (`kind`), assign it (`assignee_id`), move its
    status, set its priority or product — only the fields sent, in that order, all or none:
    422 names the field at fault and nothing is changed (a closed case, a move the status
    table refuses, an agent who is away or outside the team, an unknown SKU). Each change is
    in the case history under your name."""
    require(request, scope=Scope.WRITE)
    sent = payload.model_fields_set
    with _desk_errors(case_id):
        access_case(user=request.user, case_id=case_id)
        with transaction.atomic():
            if payload.kind is not None:
                case_kind_change(
                    case_id=case_id, kind=payload.kind, actor=request.user, reason=payload.reason
                )
            if "assignee_id" in sent:
                case_assign(case_id=case_id, assignee_id=payload.assignee_id, actor=request.user)
            if payload.status is not None:
                case_status_set(
                    case_id=case_id,
                    status=payload.status,
                    actor=request.user,
                    reason=payload.reason,
                )
            if payload.priority is not None:
                case_priority_set(case_id=case_id, priority=payload.priority, actor=request.user)
            if payload.product is not None:
                case_product_set(case_id=case_id, sku=payload.product, actor=request.user)
    return _out([Case.objects.select_related("team", "assignee", "product").get(pk=case_id)])[0]


class NoteIn(Schema):
    text: str = Field(..., examples=["Called the courier: it leaves tomorrow."])


class NoteOut(Schema):
    id: int = Field(..., description="the note's interaction id (type note, never sent)")
    case_id: int


@router.post("/cases/{case_id}/notes", response={201: NoteOut})
def add_case_note(request: HttpRequest, case_id: int, payload: NoteIn) -> Status[dict[str, Any]]:
    """An internal note on the case's thread: in the log and the customer's 360 for staff,
    never sent to the customer. 422 for an empty or over-long text or a closed case."""
    require(request, scope=Scope.WRITE)
    with _desk_errors(case_id):
        access_case(user=request.user, case_id=case_id)
        note = case_note_add(case_id=case_id, text=payload.text, actor=request.user)
    return Status(201, {"id": note.pk, "case_id": case_id})


class TemplateIn(Schema):
    name: str = Field(..., examples=["order_update"], description="as approved in WhatsApp")
    language: str = Field(..., examples=["fa"], description="the template's language code")
    params: list[str] = Field(default_factory=list, description="the body's {{1}}, {{2}} …")


class ReplyIn(Schema):
    text: str = Field(
        "",
        examples=["سلام، آسیاب جدید فردا ارسال می‌شود."],
        description="the reply, 1–20,000 characters (plain text; the HTML part is made from it)",
    )
    template: TemplateIn | None = Field(
        None,
        description="WhatsApp only: an approved template instead of text (the one kind of "
        "message allowed outside the 24-hour customer-service window)",
    )


class ReplyOut(Schema):
    id: int = Field(..., description="the outbound interaction's id")
    case_id: int
    channel: str = Field(..., description="the channel it is sent by (email for a phone case)")
    to: str
    status: str = Field(..., description="delivery: queued, sent or failed")
    message_id: str = Field(..., description="the log's external id (for email, the Message-ID)")


_ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


@router.post(
    "/cases/{case_id}/replies",
    response={201: ReplyOut},
    openapi_extra={
        "responses": {"409": {"description": "the case is closed", "content": _ERROR_REF}}
    },
)
def reply_to_case(request: HttpRequest, case_id: int, payload: ReplyIn) -> Status[dict[str, Any]]:
    """Reply to the customer: stored as an outbound interaction on the case's thread and sent
    by the case's channel (email for a call or a visit) from the queue; `status` is the
    delivery's. 409 for a closed case; 422 for empty text, a channel that cannot send yet or a
    customer without an address on it — nothing stored."""
    require(request, scope=Scope.WRITE)
    with _desk_errors(case_id):
        case = access_case(user=request.user, case_id=case_id)
        try:
            reply = case_reply(
                case=case,
                text=payload.text,
                actor=request.user,
                template=payload.template.model_dump() if payload.template else None,
            )
        except CaseClosed as exc:
            raise HttpError(409, str(exc)) from None
    return Status(
        201,
        {
            "id": reply.interaction_id,
            "case_id": reply.case_id,
            "channel": reply.channel,
            "to": reply.address,
            "status": reply.status,
            "message_id": reply.external_id,
        },
    )


class AvailabilityIn(Schema):
    available: bool = Field(
        ..., strict=True, examples=[False], description="true: available; false: away"
    )


class AgentRoutingOut(Schema):
    user_id: int
    username: str
    available: bool
    kinds: list[str] = Field(..., description="case kinds routed to the agent (empty: none)")
    languages: list[str] = Field(..., description="customer languages (empty: any)")
    max_open_cases: int | None = Field(..., description="the cap; null: the default")


@router.post("/agents/me/availability", response=AgentRoutingOut)
def set_my_availability(request: HttpRequest, payload: AvailabilityIn) -> dict[str, Any]:
    """Mark yourself available or away. An away agent gets no new case, by routing or by
    hand; their open cases stay theirs (docs/routing.md)."""
    require(request, scope=Scope.WRITE)
    try:
        profile = agent_availability_set(
            user_id=request.user.pk, available=payload.available, actor=request.user
        )
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return {
        "user_id": profile.user_id,
        "username": request.user.get_username(),
        "available": profile.available,
        "kinds": list(profile.kinds),
        "languages": list(profile.languages),
        "max_open_cases": profile.max_open_cases,
    }


class CaseRuleIn(Schema):
    enabled: bool = Field(..., strict=True, examples=[True])
    after: int | None = Field(
        None,
        examples=[2],
        description="waiting_remind_close: business days waiting; unassigned_escalate: minutes",
    )
    then: int | None = Field(
        None, examples=[3], description="waiting_remind_close: business days more, then close"
    )
    message: str = Field("", description="waiting_remind_close: the reminder sent to the customer")
    messages: dict[str, str] = Field(
        default_factory=dict,
        examples=[
            {"fa": "سلام، هنوز منتظر پاسخ شما هستیم.", "zh-hans": "您好，我们仍在等待您的回复。"}
        ],
        description="the reminder per customer language (fa, zh-hans, en); `message` otherwise",
    )
    tiers: list[str] = Field(default_factory=list, description="follow_up_tier: customer tiers")


class CaseRuleOut(CaseRuleIn):
    kind: str


def _rule_out(kind: str, rule: CaseRule | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "enabled": bool(rule and rule.enabled),
        "after": rule.after if rule else None,
        "then": rule.then if rule else None,
        "message": rule.message if rule else "",
        "messages": dict(rule.messages) if rule else {},
        "tiers": list(rule.tiers) if rule else [],
    }


@router.get("/case-rules", response=list[CaseRuleOut])
def list_case_rules(request: HttpRequest) -> list[dict[str, Any]]:
    """The managers' rules (docs/cases.md#rules): `waiting_remind_close`,
    `unassigned_escalate`, `follow_up_tier`, `follow_up_complaint`; one never set is off."""
    require(request, scope=Scope.READ)
    return [_rule_out(kind, rule) for kind, rule in case_rules().items()]


@router.put("/case-rules/{rule_kind}", response=CaseRuleOut)
def set_case_rule(request: HttpRequest, rule_kind: str, payload: CaseRuleIn) -> dict[str, Any]:
    """Set one rule (manager). 422 for an unknown kind, a number below 1, or a rule that would
    do nothing (a waiting rule with neither reminder text nor `then`; a tier rule without
    tiers) — nothing changed."""
    require(request, scope=Scope.WRITE, role=Role.MANAGER)
    try:
        rule = case_rule_set(
            kind=rule_kind,
            enabled=payload.enabled,
            after=payload.after,
            then=payload.then,
            message=payload.message,
            messages=payload.messages,
            tiers=payload.tiers,
            actor=request.user,
        )
    except InputError as exc:
        raise HttpError(422, str(exc)) from None
    return _rule_out(rule.kind, rule)
