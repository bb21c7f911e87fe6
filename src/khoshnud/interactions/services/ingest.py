"""Ingestion: a batch of events → customers resolved by identity → interactions stored.

Promises:
- one transaction per batch; invalid events are rejected with their index and reason while the
  valid ones are stored;
- idempotent on (source, external_id): a re-sent event returns the id it already has, also
  inside one batch;
- the after-ingestion pipeline (classification, …) is enqueued after commit, so ingestion
  speed does not depend on it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from khoshnud.customers.identities import IdentityError, normalize_identity
from khoshnud.customers.models import IdentityKind
from khoshnud.customers.resolution import CustomerReference, customers_resolve
from khoshnud.customers.services import CustomerInputError, clean_profile
from khoshnud.db import datetime_param, interactions_insert, retry_transient, select_in
from khoshnud.inputs import (
    InputError,
    clean_aware_datetime,
    clean_choice,
    clean_int,
    clean_json_text,
    clean_str,
    storable_text,
)
from khoshnud.interactions.extensions import StoredEvent, event_extensions
from khoshnud.interactions.models import (
    Channel,
    Direction,
    Interaction,
    InteractionType,
    JourneyStage,
)
from khoshnud.interactions.pipeline import interactions_stored

CHANNELS = frozenset(Channel.values)
DIRECTIONS = frozenset(Direction.values)
TYPES = frozenset(InteractionType.values)
STAGES = frozenset(JourneyStage.values) | {""}
IDENTITY_KINDS = tuple(IdentityKind.values)
# A customer reference holding only these keys has no profile to check (the common case:
# an event names its customer by one identity).
_IDENTITY_KEYS = frozenset(IDENTITY_KINDS)
_REFERENCE_KEYS = _IDENTITY_KEYS | {"id"}
MAX_TEXT = 100_000
_CHUNK = 500


# One encoder for the process: json.dumps(..., ensure_ascii=False) builds a new one per call.
_to_json = json.JSONEncoder(ensure_ascii=False).encode


class BatchError(ValueError):
    """The batch as a whole is unacceptable (not a list, too many events): nothing is stored."""


class EventError(ValueError):
    pass


@dataclass
class EventResult:
    index: int
    status: str  # created | duplicate | rejected
    id: int | None = None
    customer_id: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.status == "rejected":
            out["error"] = self.error
        else:
            out["id"] = self.id
            out["customer_id"] = self.customer_id
        return out


@dataclass
class _Event:
    index: int
    source: str
    external_id: str
    channel: str
    direction: str
    type: str
    stage: str
    occurred_at: dt.datetime
    text: str
    metadata_json: str
    staff: str | None
    customer_id: int | None
    identities: list[tuple[str, str]]
    profile: dict[str, Any] = field(default_factory=dict)
    # Fields of settings.KHOSHNUD_EVENT_EXTENSIONS (e.g. "survey"), as their extension cleaned.
    extras: dict[str, Any] = field(default_factory=dict)


def parse_aware_datetime(value: object, name: str = "occurred_at") -> dt.datetime:
    """An aware time in the range both databases read back (inputs.clean_aware_datetime)."""
    try:
        return clean_aware_datetime(value, field=name)
    except InputError as exc:
        raise EventError(str(exc)) from None


def clean_event(index: int, raw: object) -> _Event:
    """Validate one event with the shared input rules; raises EventError with a readable reason.

    Everything a database could refuse is caught here, so one bad event is rejected with its
    index while the others of its batch are stored.
    """
    try:
        return _clean_event(index, raw)
    except InputError as exc:
        raise EventError(str(exc)) from None


def _clean_event(index: int, raw: object) -> _Event:
    if not isinstance(raw, dict):
        raise EventError("an event must be a JSON object")
    customer = raw.get("customer")
    if not isinstance(customer, dict) or not customer:
        raise EventError("customer is required: an object with id, email, phone, telegram, ...")
    customer_id = None
    if customer.get("id") is not None:
        customer_id = clean_int(customer["id"], field="customer.id")
    identities: list[tuple[str, str]] = []
    # One key (the usual reference) is read directly; more keep the kinds' fixed order.
    kinds = IDENTITY_KINDS if len(customer) > 1 else [k for k in customer if k in _IDENTITY_KEYS]
    for kind in kinds:
        value = customer.get(kind)
        if value is None or value == "":
            continue
        try:
            identities.append((kind, normalize_identity(kind, value)))
        except IdentityError as exc:
            raise EventError(f"customer.{kind}: {exc}") from None
    if customer_id is None and not identities:
        raise EventError(f"customer needs an id or one of {list(IDENTITY_KINDS)}")
    if not customer.keys() <= _REFERENCE_KEYS:
        try:
            # A profile is checked even when the customer exists: a bad value is the sender's
            # mistake either way, and is only used for a customer the event creates.
            clean_profile(customer, partial=True)
        except CustomerInputError as exc:
            raise EventError(f"customer: {exc}") from None
    text = raw.get("text", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise EventError("text must be a string")
    if len(text) > MAX_TEXT:
        raise EventError(f"text is longer than {MAX_TEXT} characters")
    text = storable_text(text)
    metadata = raw.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise EventError("metadata must be an object")
    metadata_json = clean_json_text(metadata, field="metadata") if metadata else "{}"
    staff = clean_str(raw.get("staff"), field="staff", max_length=150, required=False) or None
    kind = clean_choice(raw.get("type"), field="type", allowed=TYPES, default="message")
    extras: dict[str, Any] = {}
    for name, extension in event_extensions().items():
        if raw.get(name) is not None:
            extras[name] = extension.clean(raw[name], event_type=kind)
            text = text or extension.text(extras[name])
    return _Event(
        index=index,
        source=clean_str(raw.get("source"), field="source", max_length=64, allow_int=True),
        external_id=clean_str(
            raw.get("external_id"), field="external_id", max_length=128, allow_int=True
        ),
        channel=clean_choice(raw.get("channel"), field="channel", allowed=CHANNELS),
        direction=clean_choice(
            raw.get("direction"), field="direction", allowed=DIRECTIONS, default="inbound"
        ),
        type=kind,
        stage=clean_choice(raw.get("stage"), field="stage", allowed=STAGES, default=""),
        occurred_at=clean_aware_datetime(raw.get("occurred_at"), field="occurred_at"),
        text=text,
        metadata_json=metadata_json,
        staff=staff,
        customer_id=customer_id,
        identities=identities,
        profile=customer,
        extras=extras,
    )


def events_ingest(*, events: Sequence[object], max_batch: int | None = None) -> list[EventResult]:
    """Store a batch of events; returns one result per event, in order.

    Raises BatchError (nothing stored) when ``events`` is not a list or exceeds the limit.
    Idempotent: replaying a batch returns the same ids with status "duplicate".
    """
    limit = max_batch or settings.KHOSHNUD_INGEST_MAX_BATCH
    if not isinstance(events, list | tuple):
        raise BatchError("events must be a list")
    if len(events) > limit:
        raise BatchError(f"a batch holds at most {limit} events; this one has {len(events)}")
    results: list[EventResult | None] = [None] * len(events)
    valid: list[_Event] = []
    for index, raw in enumerate(events):
        try:
            valid.append(clean_event(index, raw))
        except EventError as exc:
            results[index] = EventResult(index, "rejected", error=str(exc))
    if valid:

        def store() -> list[int]:
            for event in valid:
                results[event.index] = None
            return _store(valid, results)

        # A concurrent batch may deadlock with this one or store the same key first: run it
        # again (bounded, with jitter); DatabaseBusyError (HTTP 503) when that never succeeds.
        created_ids = retry_transient(store)
        interactions_stored(interaction_ids=created_ids)
    return [r for r in results if r is not None]


def _store(valid: list[_Event], results: list[EventResult | None]) -> list[int]:
    now = timezone.now()
    # No look-up of stored keys first: the insert skips them (ON CONFLICT DO NOTHING) and only
    # the keys it skipped are read back below — one query fewer for a batch of new events, the
    # usual case (a replayed batch pays it after the insert instead).
    fresh: list[_Event] = []
    seen: dict[tuple[str, str], _Event] = {}
    for event in valid:
        key = (event.source, event.external_id)
        if key in seen:
            results[event.index] = EventResult(event.index, "duplicate")  # filled in below
        else:
            seen[key] = event
            fresh.append(event)
    staff_ids = _staff_ids({e.staff for e in fresh if e.staff})
    for event in fresh:
        if event.staff and event.staff not in staff_ids:
            results[event.index] = EventResult(
                event.index, "rejected", error=f"unknown staff user {event.staff!r}"
            )
    fresh = [e for e in fresh if results[e.index] is None]
    customer_of = _resolve_customers(fresh, results)
    stored = [e for e in fresh if results[e.index] is None]
    rows = []
    adapt = datetime_param()
    created_at = adapt(now)
    for event in stored:
        rows.append(
            (
                customer_of[event.index],
                event.channel,
                event.direction,
                event.type,
                event.stage,
                adapt(event.occurred_at),
                event.text,
                event.metadata_json,
                staff_ids.get(event.staff) if event.staff else None,
                event.source,
                event.external_id,
                created_at,
            )
        )
    ids = _insert(rows)
    missing = {(e.source, e.external_id) for e in stored} - ids.keys()
    if missing:  # stored before (a replay) or meanwhile by a concurrent batch: report it
        ids.update(_existing_interactions(missing))
    created: list[int] = []
    extras: dict[str, list[StoredEvent]] = {}
    for event in stored:
        key = (event.source, event.external_id)
        iid, cid = ids[key]
        status = "duplicate" if key in missing else "created"
        results[event.index] = EventResult(event.index, status, iid, cid)
        if status == "created":
            created.append(iid)
            for name, value in event.extras.items():
                extras.setdefault(name, []).append(
                    StoredEvent(
                        interaction_id=iid,
                        customer_id=cid,
                        channel=event.channel,
                        occurred_at=event.occurred_at,
                        staff_id=staff_ids.get(event.staff) if event.staff else None,
                        source=event.source,
                        value=value,
                    )
                )
    # Only what this batch created: a replayed event stores nothing twice.
    for name, items in extras.items():
        event_extensions()[name].store(items)
    # Repeats inside this batch point at the event stored first.
    for event in valid:
        result = results[event.index]
        if result is not None and result.status == "duplicate" and result.id is None:
            first = seen[(event.source, event.external_id)]
            first_result = results[first.index]
            if first_result is not None and first_result.status != "rejected":
                result.id, result.customer_id = first_result.id, first_result.customer_id
            else:
                results[event.index] = EventResult(
                    event.index, "rejected", error=first_result.error if first_result else ""
                )
    return created


def _insert(rows: list[tuple]) -> dict[tuple[str, str], tuple[int, int]]:
    """Store rows (db.INTERACTION_COLUMNS order); keys already stored are skipped."""
    returned = interactions_insert(rows)
    return {(source, external_id): (iid, cid) for source, external_id, iid, cid in returned}


def _existing_interactions(keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for source, external_ids in by_source.items():
        for start in range(0, len(external_ids), _CHUNK):
            rows = select_in(
                table=Interaction._meta.db_table,
                columns="t.external_id, t.id, t.customer_id",
                where="t.source = %s",
                params=[source],
                key="external_id",
                values=external_ids[start : start + _CHUNK],
            )
            for external_id, iid, cid in rows:
                found[(source, external_id)] = (iid, cid)
    return found


def _staff_ids(usernames: set[str]) -> dict[str, int]:
    if not usernames:
        return {}
    return dict(User.objects.filter(username__in=usernames).values_list("username", "id"))


def _resolve_customers(events: list[_Event], results: list[EventResult | None]) -> dict[int, int]:
    """event index → customer id, by the customers app (which creates those not seen before)."""
    resolved = customers_resolve(
        references=[
            CustomerReference(customer_id=e.customer_id, identities=e.identities, profile=e.profile)
            for e in events
        ]
    )
    customer_of: dict[int, int] = {}
    for event, (customer_id, error) in zip(events, resolved, strict=True):
        if customer_id is None:
            results[event.index] = EventResult(event.index, "rejected", error=error)
        else:
            customer_of[event.index] = customer_id
    return customer_of
