"""Writes of the engagement app: rules, triggers, opt-outs.

Every rule is checked whole before it is stored (an unknown template field, an empty send
window, a lead time over a year: ``InputError`` naming the field, nothing stored). The
scheduler pass and the sending live in ``scheduler.py`` and ``sending.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from khoshnud.accounts.services import audit_log
from khoshnud.customers.models import Consent, ConsentChannel, Customer, Locale, Tier
from khoshnud.customers.services import consent_record
from khoshnud.engagement.models import OccasionKind, Rule, RuleKind, Send, Trigger
from khoshnud.engagement.templating import TemplateError, templates_clean
from khoshnud.inputs import InputError, clean_aware_datetime, clean_choice, clean_int, clean_str
from khoshnud.interactions.models import Direction, Interaction
from khoshnud.interactions.services import events_ingest

MAX_LEAD_DAYS = 365
SENDING_CHANNELS = ("email", "sms", "telegram")  # what outreach sends on (adapters exist)


def _clock(value: object, field: str) -> dt.time:
    if not isinstance(value, str):
        raise InputError(field, "a time HH:MM")
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError:
        raise InputError(field, f"{value[:20]!r} is not a time HH:MM") from None


def _pair(value: object, field: str) -> tuple[dt.time, dt.time] | None:
    if value in (None, [], ""):
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError(field, 'two times ["09:00", "20:00"]')
    return _clock(value[0], f"{field}[0]"), _clock(value[1], f"{field}[1]")


def _channels(value: object) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise InputError("channels", f"give at least one channel of {', '.join(SENDING_CHANNELS)}")
    out: list[str] = []
    for i, item in enumerate(value):
        channel = clean_choice(item, field=f"channels[{i}]", allowed=SENDING_CHANNELS)
        if channel not in out:
            out.append(channel)
    return out


def _audience(value: object) -> dict[str, Any]:
    if value in (None, {}):
        return {}
    if not isinstance(value, Mapping):
        raise InputError("audience", 'an object: {"customer_ids": [...]} or a filter')
    allowed = {"customer_ids", "tier", "locale", "calendar"}
    unknown = set(value) - allowed
    if unknown:
        raise InputError(f"audience.{sorted(unknown)[0]}", f"use {', '.join(sorted(allowed))}")
    out: dict[str, Any] = {}
    if "customer_ids" in value:
        ids = value["customer_ids"]
        if not isinstance(ids, list) or not ids or len(ids) > 100_000:
            raise InputError("audience.customer_ids", "a list of 1 to 100,000 customer ids")
        out["customer_ids"] = sorted({clean_int(x, field="audience.customer_ids") for x in ids})
    for key, allowed_values in (("tier", Tier.values), ("locale", Locale.values)):
        if key in value:
            out[key] = clean_choice(value[key], field=f"audience.{key}", allowed=allowed_values)
    if "calendar" in value:
        out["calendar"] = clean_choice(
            value["calendar"], field="audience.calendar", allowed=("gregorian", "jalali", "chinese")
        )
    return out


def rule_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """The stored fields of a rule from API or form input; ``InputError`` names the field."""
    kind = clean_choice(data.get("kind"), field="kind", allowed=RuleKind.values)
    out: dict[str, Any] = {
        "name": clean_str(data.get("name"), field="name", max_length=200),
        "kind": kind,
        "occasion": "",
        "lead_days": 0,
        "event": "",
        "inactivity_days": 0,
        "audience": {},
        "starts_at": None,
    }
    if kind == RuleKind.OCCASION:
        out["occasion"] = clean_choice(
            data.get("occasion"), field="occasion", allowed=OccasionKind.values
        )
        lead = data.get("lead_days", 0)
        lead = clean_int(lead, field="lead_days", minimum=0, maximum=10**6)
        if lead > MAX_LEAD_DAYS:
            raise InputError("lead_days", f"at most {MAX_LEAD_DAYS} days (a year); got {lead}")
        out["lead_days"] = lead
    elif kind == RuleKind.EVENT:
        out["event"] = clean_str(data.get("event"), field="event", max_length=100)
    elif kind == RuleKind.INACTIVITY:
        out["inactivity_days"] = clean_int(
            data.get("inactivity_days"), field="inactivity_days", minimum=1, maximum=3650
        )
    else:
        out["audience"] = _audience(data.get("audience"))
        if not out["audience"]:
            raise InputError("audience", 'a campaign needs {"customer_ids": [...]} or a filter')
        if data.get("starts_at"):
            out["starts_at"] = clean_aware_datetime(data["starts_at"], field="starts_at")
    out["channels"] = _channels(data.get("channels"))
    window = _pair(data.get("send_window"), "send_window")
    if window is None:
        raise InputError("send_window", 'required: ["09:00", "20:00"] in the customer\'s time')
    if window[0] >= window[1]:
        raise InputError("send_window", "the window is empty: its start must be before its end")
    out["window_start"], out["window_end"] = window
    quiet = _pair(data.get("quiet_hours"), "quiet_hours")
    if quiet is not None and quiet[0] == quiet[1]:
        raise InputError("quiet_hours", "start and end are the same time")
    out["quiet_start"], out["quiet_end"] = quiet or (None, None)
    out["weekly_cap"] = clean_int(data.get("weekly_cap", 1), field="weekly_cap", maximum=50)
    out["offer_code"] = clean_str(
        data.get("offer_code") or "", field="offer_code", max_length=64, required=False
    )
    out["products"] = clean_str(
        data.get("products") or "", field="products", max_length=500, required=False
    )
    try:
        out["templates"] = templates_clean(data.get("templates"))
    except TemplateError as exc:
        raise InputError(exc.field, exc.message) from None
    out["is_active"] = bool(data.get("is_active", True))
    return out


@transaction.atomic
def rule_create(*, data: Mapping[str, Any], actor: Any = None) -> Rule:
    """Create a rule from checked input (all or nothing); audited."""
    fields = rule_clean(data)
    rule = Rule.objects.create(**fields, created_by=actor if getattr(actor, "pk", None) else None)
    audit_log(actor=actor, action="rule.create", object_type="rule", object_id=rule.pk)
    return rule


@transaction.atomic
def rule_update(*, rule: Rule, data: Mapping[str, Any], actor: Any = None) -> Rule:
    """Replace a rule's settings with checked input (all or nothing); audited."""
    for key, value in rule_clean(data).items():
        setattr(rule, key, value)
    rule.save()
    audit_log(actor=actor, action="rule.update", object_type="rule", object_id=rule.pk)
    return rule


@transaction.atomic
def rule_set_active(*, rule: Rule, active: bool, actor: Any = None) -> Rule:
    """Switch a rule on or off; audited."""
    rule.is_active = active
    rule.save(update_fields=["is_active", "updated_at"])
    audit_log(
        actor=actor,
        action="rule.activate" if active else "rule.deactivate",
        object_type="rule",
        object_id=rule.pk,
    )
    return rule


def trigger_record(
    *, event: str, customer_id: int, key: str, fields: Mapping[str, Any] | None = None
) -> tuple[Trigger, bool]:
    """Record an event for a customer (idempotent per event, customer and key); the next
    pass sends the event rules of that name. Returns (trigger, created)."""
    event = clean_str(event, field="event", max_length=100)
    key = clean_str(key, field="key", max_length=128)
    if not Customer.objects.filter(pk=customer_id, merged_into__isnull=True).exists():
        raise InputError("customer_id", f"no customer {customer_id}")
    return Trigger.objects.get_or_create(
        event=event, customer_id=customer_id, key=key, defaults={"fields": dict(fields or {})}
    )


def triggers_from_notifications(*, interaction_ids: Iterable[int]) -> int:
    """Pipeline step: a stored ``"type": "notification"`` event with ``metadata.event`` fires
    the event rules of that name (its external id is the key). Idempotent."""
    rows = Interaction.objects.filter(pk__in=list(interaction_ids), type="notification").values(
        "id", "customer_id", "metadata", "external_id", "source"
    )
    made = 0
    for row in rows:
        event = (row["metadata"] or {}).get("event")
        if isinstance(event, str) and event.strip():
            _trigger, created = Trigger.objects.get_or_create(
                event=event.strip()[:100],
                customer_id=row["customer_id"],
                key=f"{row['source']}:{row['external_id']}"[:128],
                defaults={"fields": {}},
            )
            made += created
    return made


def consent_in_force(
    *, customer_ids: Iterable[int], channels: Iterable[str]
) -> set[tuple[int, str]]:
    """(customer, channel) pairs whose newest consent decision is a yes."""
    latest: dict[tuple[int, str], bool] = {}
    rows = (
        Consent.objects.filter(customer_id__in=list(customer_ids), channel__in=list(channels))
        .order_by("customer_id", "channel", "recorded_at", "id")
        .values_list("customer_id", "channel", "granted")
    )
    for customer_id, channel, granted in rows:
        latest[(customer_id, channel)] = granted
    return {pair for pair, granted in latest.items() if granted}


STOP_WORDS = frozenset({"stop", "unsubscribe", "لغو", "لغو۱۱", "لغو11", "توقف", "退订", "td"})


def opt_out(*, customer_id: int, channel: str, how: str, at: dt.datetime | None = None) -> bool:
    """Withdraw the customer's consent on ``channel`` at once, and log it as an interaction.
    Idempotent: False when the consent was not in force."""
    if channel not in ConsentChannel.values:
        return False
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or (customer_id, channel) not in consent_in_force(
        customer_ids=[customer_id], channels=[channel]
    ):
        return False
    when = at or timezone.now()
    with transaction.atomic():
        consent = consent_record(customer=customer, channel=channel, granted=False, method=how)
        events_ingest(
            events=[
                {
                    "source": "engagement",
                    "external_id": f"opt-out:{consent.pk}",
                    "channel": channel,
                    "direction": Direction.INBOUND,
                    "type": "note",
                    "occurred_at": when.isoformat(),
                    "text": f"opted out of {channel} ({how})",
                    "metadata": {"engagement": {"opt_out": channel, "how": how}},
                    "customer": {"id": customer_id},
                }
            ]
        )
    return True


def opt_outs_from_replies(*, interaction_ids: Iterable[int]) -> int:
    """Pipeline step: an inbound SMS or Telegram message that is only STOP (or لغو, 退订)
    withdraws that channel's consent at once. Idempotent."""
    rows = Interaction.objects.filter(
        pk__in=list(interaction_ids), direction=Direction.INBOUND, channel__in=["sms", "telegram"]
    ).values_list("customer_id", "channel", "text")
    done = 0
    for customer_id, channel, text in rows:
        word = "".join((text or "").split()).lower()
        if word in STOP_WORDS:
            done += opt_out(customer_id=customer_id, channel=channel, how=f"replied {word.upper()}")
    return done


def sends_merge(*, source_id: int, target_id: int) -> int:
    """A merged customer's outreach moves to the survivor, except an occurrence the survivor
    already got (it stays with the merged customer: the log keeps both, none is re-sent)."""
    taken = Send.objects.filter(customer_id=target_id).values("rule_id", "occurrence")
    keys = {(r["rule_id"], r["occurrence"]) for r in taken}
    movable = [
        pk
        for pk, rule_id, occurrence in Send.objects.filter(customer_id=source_id).values_list(
            "pk", "rule_id", "occurrence"
        )
        if (rule_id, occurrence) not in keys
    ]
    return Send.objects.filter(pk__in=movable).update(customer_id=target_id)


def sends_erase(*, customer_id: int) -> int:
    """An erasure blanks what outreach wrote to the customer and where."""
    return Send.objects.filter(customer_id=customer_id).update(
        text="", subject="", address="", last_error=""
    )


def triggers_merge(*, source_id: int, target_id: int) -> int:
    taken = set(Trigger.objects.filter(customer_id=target_id).values_list("event", "key"))
    movable = [
        pk
        for pk, event, key in Trigger.objects.filter(customer_id=source_id).values_list(
            "pk", "event", "key"
        )
        if (event, key) not in taken
    ]
    return Trigger.objects.filter(pk__in=movable).update(customer_id=target_id)
