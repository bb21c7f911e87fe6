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
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from khoshnud.customers.identities import IdentityError, normalize_identity
from khoshnud.customers.models import Customer, Identity, IdentityKind
from khoshnud.customers.services import (
    CustomerInputError,
    clean_profile,
    customers_search_text_refresh,
    search_text_for,
)
from khoshnud.db import execute_returning, is_postgres, select_in
from khoshnud.inputs import (
    InputError,
    clean_aware_datetime,
    clean_choice,
    clean_int,
    clean_json_text,
    clean_str,
    storable_text,
)
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
    for kind in IDENTITY_KINDS:
        value = customer.get(kind)
        if value is None or value == "":
            continue
        try:
            identities.append((kind, normalize_identity(kind, value)))
        except IdentityError as exc:
            raise EventError(f"customer.{kind}: {exc}") from None
    if customer_id is None and not identities:
        raise EventError(f"customer needs an id or one of {list(IDENTITY_KINDS)}")
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
        type=clean_choice(raw.get("type"), field="type", allowed=TYPES, default="message"),
        stage=clean_choice(raw.get("stage"), field="stage", allowed=STAGES, default=""),
        occurred_at=clean_aware_datetime(raw.get("occurred_at"), field="occurred_at"),
        text=text,
        metadata_json=metadata_json,
        staff=staff,
        customer_id=customer_id,
        identities=identities,
        profile=customer,
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
        for attempt in range(3):
            for event in valid:
                results[event.index] = None
            try:
                created_ids = _store(valid, results)
                break
            except IntegrityError:
                # A concurrent batch created the same customer identity or interaction first:
                # start again; the second pass finds what the other one stored.
                if attempt == 2:
                    raise
        interactions_stored(interaction_ids=created_ids)
    return [r for r in results if r is not None]


@transaction.atomic
def _store(valid: list[_Event], results: list[EventResult | None]) -> list[int]:
    now = timezone.now()
    existing = _existing_interactions({(e.source, e.external_id) for e in valid})
    fresh: list[_Event] = []
    seen: dict[tuple[str, str], _Event] = {}
    for event in valid:
        key = (event.source, event.external_id)
        if key in existing:
            iid, cid = existing[key]
            results[event.index] = EventResult(event.index, "duplicate", iid, cid)
        elif key in seen:
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
    adapt = _datetime_adapter()
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
    ids = _insert(rows) if rows else {}
    missing = {(e.source, e.external_id) for e in stored} - ids.keys()
    if missing:  # stored meanwhile by a concurrent batch: report what is there
        ids.update(_existing_interactions(missing))
    created: list[int] = []
    for event in stored:
        key = (event.source, event.external_id)
        iid, cid = ids[key]
        status = "duplicate" if key in missing else "created"
        results[event.index] = EventResult(event.index, status, iid, cid)
        if status == "created":
            created.append(iid)
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


_INSERT_COLUMNS = (
    "customer_id",
    "channel",
    "direction",
    "type",
    "stage",
    "occurred_at",
    "text",
    "metadata",
    "staff_id",
    "source",
    "external_id",
    "created_at",
)


def insert_sql(rows: int = 1, returning: bool = False) -> str:
    """INSERT of ``rows`` interactions that skips (source, external_id) already stored."""
    table = Interaction._meta.db_table
    cols = ", ".join(_INSERT_COLUMNS)
    one = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"
    sql = f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * rows)} ON CONFLICT DO NOTHING"  # noqa: S608
    return sql + " RETURNING source, external_id, id, customer_id" if returning else sql


def _datetime_adapter() -> Any:
    """Aware datetime → what the driver stores; SQLite keeps naive UTC text (as Django does)."""
    if connection.vendor == "sqlite":
        return lambda value: str(value.astimezone(dt.UTC).replace(tzinfo=None))
    return lambda value: value


# SQLite: one multi-row INSERT … RETURNING per chunk (fewer statements than executemany, and
# the new ids come back without a second query); 12 columns × 400 rows stays under its limits.
# PostgreSQL: one INSERT … SELECT FROM unnest(arrays) per batch: 12 parameters whatever the
# batch size, so the driver does not parse a huge statement.
_INSERT_CHUNK = 400
_PG_TYPES = (
    "bigint",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "timestamptz",
    "text",
    "jsonb",
    "bigint",
    "varchar",
    "varchar",
    "timestamptz",
)


def _insert(rows: list[tuple]) -> dict[tuple[str, str], tuple[int, int]]:
    table = Interaction._meta.db_table
    cols = ", ".join(_INSERT_COLUMNS)
    returned: list[tuple[Any, ...]] = []
    if is_postgres():
        arrays = ", ".join(f"%s::{t}[]" for t in _PG_TYPES)
        returned = execute_returning(
            f"INSERT INTO {table} ({cols}) SELECT * FROM unnest({arrays}) "  # noqa: S608
            "ON CONFLICT DO NOTHING RETURNING source, external_id, id, customer_id",
            [list(column) for column in zip(*rows, strict=True)],
        )
    else:
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            returned += execute_returning(
                insert_sql(len(chunk), returning=True), [v for row in chunk for v in row]
            )
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
    """event index → customer id; creates customers (and identities) not seen before."""
    from khoshnud.customers.services import customers_find_by_identities

    customer_of: dict[int, int] = {}
    wanted_ids = {e.customer_id for e in events if e.customer_id is not None}
    known: dict[int, int] = {}
    for start in range(0, len(wanted_ids), _CHUNK):
        rows = select_in(
            table=Customer._meta.db_table,
            columns="t.id, t.merged_into_id",
            where="1 = 1",
            params=[],
            key="id",
            values=list(wanted_ids)[start : start + _CHUNK],
            key_type="bigint",
        )
        for pk, merged_into in rows:
            known[pk] = merged_into or pk  # a merged customer's history goes to the survivor
    owner = customers_find_by_identities(p for e in events for p in e.identities)
    new_customers: list[Customer] = []
    new_identities: list[tuple[int | Customer, str, str]] = []
    pending: dict[tuple[str, str], Customer] = {}  # identity → customer created in this batch
    waiting: list[tuple[_Event, Customer]] = []
    for event in events:
        if event.customer_id is not None:
            if event.customer_id not in known:
                results[event.index] = EventResult(
                    event.index, "rejected", error=f"unknown customer id {event.customer_id}"
                )
                continue
            customer_of[event.index] = known[event.customer_id]
            continue
        match: int | None = None
        for pair in event.identities:
            if pair in owner:
                match = owner[pair]
                break
        if match is not None:
            customer_of[event.index] = match
            for pair in event.identities:
                if pair not in owner and pair not in pending:
                    owner[pair] = match
                    new_identities.append((match, *pair))
            continue
        created = None
        for pair in event.identities:
            if pair in pending:
                created = pending[pair]
                break
        if created is None:
            try:
                profile = clean_profile(event.profile)
            except CustomerInputError as exc:
                results[event.index] = EventResult(
                    event.index, "rejected", error=f"customer: {exc}"
                )
                continue
            created = Customer(**profile)
            new_customers.append(created)
        for pair in event.identities:
            if pair not in pending:
                pending[pair] = created
                new_identities.append((created, *pair))
        waiting.append((event, created))
    if new_customers:
        # Search text from every identity the batch gave a new customer, not just its first event's.
        values_of: dict[int, list[str]] = {}
        for c, _kind, value in new_identities:
            if not isinstance(c, int):
                values_of.setdefault(id(c), []).append(value)
        for created in new_customers:
            created.search_text = search_text_for(created, values_of.get(id(created), []))
        Customer.objects.bulk_create(new_customers, batch_size=_CHUNK)
    if new_identities:
        Identity.objects.bulk_create(
            [
                Identity(customer_id=c if isinstance(c, int) else c.pk, kind=k, value=v)
                for c, k, v in new_identities
            ],
            batch_size=_CHUNK,
        )
        # Known customers that gained an identity here must be findable by it too.
        customers_search_text_refresh(
            customer_ids={c for c, _kind, _value in new_identities if isinstance(c, int)}
        )
    for event, created in waiting:
        assert created.pk is not None
        customer_of[event.index] = created.pk
    return customer_of
