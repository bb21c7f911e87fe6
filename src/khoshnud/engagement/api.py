"""API of the engagement app: rules, upcoming occasions, event triggers, previews."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Role, Scope
from khoshnud.customers.models import Customer
from khoshnud.engagement.models import Rule
from khoshnud.engagement.scheduler import route
from khoshnud.engagement.selectors import (
    MAX_UPCOMING_DAYS,
    message_for,
    preview_occasion,
    rule_as_input,
    rules_list,
    upcoming,
)
from khoshnud.engagement.services import consent_in_force, rule_create, trigger_record
from khoshnud.inputs import InputError, clean_int, read_json

router = Router(tags=["engagement"])


def _doc422(why: str) -> dict[str, Any]:
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {"responses": {"422": {"description": why, "content": ref}}}


def _rule_out(rule: Rule) -> dict[str, Any]:
    return {"id": rule.pk, **rule_as_input(rule)}


def _bad(exc: InputError) -> HttpError:
    return HttpError(422, f"{exc.field}: {exc.message}" if exc.field else exc.message)


@router.post(
    "/engagement/rules",
    response={201: dict},
    openapi_extra=_doc422("a field at fault, named in detail; nothing stored"),
)
def rules_create(request: HttpRequest) -> Status[dict[str, Any]]:
    """Create an outreach rule (write scope, manager). The body is the rule as
    docs/engagement.md shows it; 422 names the field at fault (an unknown template field,
    an empty send window, a lead time over a year…) and nothing is stored."""
    require(request, scope=Scope.WRITE, role=Role.MANAGER)
    try:
        body = read_json(request.body)
        if not isinstance(body, dict):
            raise InputError("", "the body must be a JSON object")
        rule = rule_create(data=body, actor=request.user)
    except InputError as exc:
        raise _bad(exc) from None
    return Status(201, _rule_out(rule))


@router.get("/engagement/rules", response=list[dict])
def rules_index(request: HttpRequest) -> list[dict[str, Any]]:
    """Every rule (read scope)."""
    require(request, scope=Scope.READ)
    return [_rule_out(rule) for rule in rules_list()]


@router.get(
    "/engagement/upcoming",
    response=list[dict],
    openapi_extra=_doc422("days is not a whole number from 0 to 366"),
)
def upcoming_index(request: HttpRequest, days: str = "30") -> list[dict[str, Any]]:
    """Occasions from today to today + days (inclusive), with the occasion rules that will
    write and when: `send_at` in the customer's time zone (null when no rule writes)."""
    require(request, scope=Scope.READ)
    try:
        n = clean_int(days, field="days", minimum=0, maximum=MAX_UPCOMING_DAYS)
    except InputError as exc:
        raise _bad(exc) from None
    return [
        {
            "customer_id": u.customer_id,
            "occasion": u.occasion,
            "date": u.date.isoformat(),
            "calendar_date": u.calendar_date,
            "rule_id": u.rule_id,
            "send_at": u.send_at.isoformat() if u.send_at else None,
        }
        for u in upcoming(days=n)
    ]


@router.post(
    "/engagement/trigger",
    response={200: dict, 201: dict},
    openapi_extra=_doc422("no such customer, or event/key missing"),
)
def trigger(request: HttpRequest) -> Status[dict[str, Any]]:
    """Fire the event rules named `event` for one customer: `{"event": "room_ready",
    "customer_id": 7, "key": "booking-1234"}`. The same key fires once (200 the second time);
    the next scheduler pass sends."""
    require(request, scope=Scope.WRITE)
    try:
        body = read_json(request.body)
        if not isinstance(body, dict):
            raise InputError("", "the body must be a JSON object")
        customer_id = clean_int(body.get("customer_id"), field="customer_id")
        row, created = trigger_record(
            event=body.get("event"),  # type: ignore[arg-type]
            customer_id=customer_id,
            key=body.get("key"),  # type: ignore[arg-type]
        )
    except InputError as exc:
        raise _bad(exc) from None
    return Status(201 if created else 200, {"id": row.pk, "created": created})


@router.get("/engagement/rules/{rule_id}/preview/{customer_id}", response=dict)
def rule_preview(request: HttpRequest, rule_id: int, customer_id: int) -> dict[str, Any]:
    """The rule's message as this customer would receive it (their language and calendar),
    and the channel it would go by (null: the customer consented to none of the rule's)."""
    require(request, scope=Scope.READ)
    rule = Rule.objects.filter(pk=rule_id).first()
    customer = Customer.objects.filter(pk=customer_id).first()
    if rule is None or customer is None:
        raise HttpError(404, "no such rule or customer")
    locale, subject, text = message_for(
        rule=rule, customer=customer, occasion=preview_occasion(rule=rule, customer=customer)
    )
    consented = consent_in_force(customer_ids=[customer.pk], channels=rule.channels)
    found = route(rule, customer, consented)
    return {
        "locale": locale,
        "subject": subject,
        "text": text,
        # The channel it would go by; null: no channel of the rule has the customer's consent
        # and an address, so nothing would be sent.
        "channel": found[0] if found else None,
    }
