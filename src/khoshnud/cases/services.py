"""Writes of cases: open one by hand, and the pipeline step that turns inbound messages into cases.

Each function is one transaction and writes the case's history (``CaseEvent``) with it.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.base import ModelState
from django.utils import timezone

from khoshnud import events
from khoshnud.accounts.models import Role, Team
from khoshnud.accounts.selectors import user_has_role
from khoshnud.accounts.services import audit_log
from khoshnud.cases.assignment import case_assignment_refusal, cases_route
from khoshnud.cases.models import (
    OPEN_STATUSES,
    PRIORITY_ORDER,
    Case,
    CaseEvent,
    CaseInteraction,
    CaseKind,
    CaseStatus,
    Priority,
    ProductSource,
    ThreadRole,
)
from khoshnud.cases.selectors import cases_answered, pipeline_rows, teams_by_kind
from khoshnud.cases.signals import announce_resolved
from khoshnud.cases.sla import Schedules, sla_pause, sla_resume
from khoshnud.commerce.selectors import (
    SupportPeriod,
    entitlement_at,
    product_by_sku,
    support_periods,
)
from khoshnud.customers.models import Customer
from khoshnud.db import (
    WriteConflict,
    datetime_adapter,
    insert_rows,
    insert_rows_with_ids,
    json_adapter,
    update_rows,
)
from khoshnud.inputs import InputError, clean_aware_datetime, clean_int, clean_str
from khoshnud.interactions.models import Channel, Direction, Interaction, InteractionType
from khoshnud.servicelevels.selectors import ServiceCatalog, service_catalog

Actor = AbstractBaseUser | AnonymousUser | None

# The classified need → the kind of case. "other" (greetings, thanks, spam) is service's to sort.
KIND_BY_NEED = {
    "service": CaseKind.SERVICE,
    "support": CaseKind.SUPPORT,
    "care": CaseKind.CARE,
    "other": CaseKind.SERVICE,
}
_CHUNK = 1000


def _raised(priority: str) -> str:
    """One step up, to high at most: urgent is a person's decision, not a classifier's."""
    index = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[min(max(index + 1, 0), PRIORITY_ORDER.index(Priority.HIGH))]


def _subject(text: str, channel: str) -> str:
    line = " ".join(text.split())
    if not line:
        return str(Channel(channel).label) if channel in Channel.values else channel
    return line if len(line) <= 80 else line[:79] + "…"


class BlankCases:
    """Unsaved cases holding ``Case``'s defaults, made without ``Model.__init__`` (which costs
    20 µs a case: a sixth of the pipeline step's Python when most messages open a case)."""

    def __init__(self) -> None:
        self._defaults = {k: v for k, v in Case().__dict__.items() if k != "_state"}

    def make(self) -> Case:
        case = Case.__new__(Case)
        case.__dict__.update(self._defaults)
        case._state = ModelState()
        case.tags = []  # the one mutable default
        return case


def _new_case(
    *,
    customer_id: int,
    tier: str,
    kind: str,
    channel: str,
    subject: str,
    opened_at: dt.datetime,
    priority: str,
    catalog: ServiceCatalog,
    teams: dict[str, Team],
    blank: BlankCases | None = None,
    entitled: bool = False,
) -> Case:
    """An unsaved case with its team and due times from the catalog (none without an entry);
    the entry's tighter entitled targets when the customer is ``entitled`` to support.

    With ``blank`` (the pipeline step's), the instance is a copy of its defaults instead of a
    new ``Case(...)``: the same object for a tenth of the cost (tests/cases check both agree).
    """
    team = teams.get(kind)
    case = blank.make() if blank is not None else Case()
    case.customer_id = customer_id
    case.kind = kind
    case.channel = channel
    case.subject = subject
    case.opened_at = case.last_message_at = opened_at
    case.priority = priority
    # The foreign keys set as the descriptors would, without their checks (a tenth of this).
    case.team_id = team.pk if team is not None else None
    case._state.fields_cache["team"] = team
    case.time_zone = settings.TIME_ZONE
    entry = catalog.entry_for(kind=kind, tier=tier, channel=channel)
    if entry is not None:
        due = catalog.due_times(entry=entry, opened_at=opened_at, entitled=entitled)
        case.service_level_id = entry.pk
        case._state.fields_cache["service_level"] = entry
        case.first_response_due = due.first_response_due
        case.resolution_due = due.resolution_due
        case.time_zone = due.time_zone
        case._entitled_targets = due.entitled  # type: ignore[attr-defined]  # for the history
    return case


class _Event(NamedTuple):
    """A history row that the pipeline step writes in bulk: no model instance (one costs ten
    times as much to build, and the step writes one per new case and per first response)."""

    case: Case
    action: str
    changes: dict[str, Any]
    reason: str = ""
    # When it happened in the case's life (the message's time, not after now): an imported
    # history then reads in order next to the changes staff make later.
    at: dt.datetime | None = None


def _opened_changes(case: Case) -> dict[str, Any]:
    return {
        "kind": case.kind,
        "priority": case.priority,
        "team": case.team.name if case.team else None,
        "service_level": str(case.service_level) if case.service_level else None,
        **({"entitled": True} if getattr(case, "_entitled_targets", False) else {}),
    }


def _opened_event(case: Case, actor: User | None, reason: str) -> CaseEvent:
    """The unsaved "opened" history row of a case opened one at a time."""
    return CaseEvent(
        case=case,
        actor=actor,
        action=events.CASE_OPENED,
        reason=reason,
        changes=_opened_changes(case),
    )


def _entitled(customer_id: int, moment: dt.datetime) -> bool:
    """Whether a purchase entitles the customer to support at ``moment`` (docs/cases.md)."""
    periods = support_periods(customer_ids=[customer_id]).get(customer_id, [])
    return entitlement_at(periods, moment) is not None


def case_open(
    *,
    customer_id: object,
    kind: object,
    channel: object,
    subject: object = "",
    opened_at: object = None,
    priority: object = Priority.NORMAL,
    actor: Actor = None,
    product: object = None,
) -> Case:
    """Open a case by hand (a phone call, a visit): transactional, audited, history written.

    ``product`` is a product's SKU: the case is about it (set by hand; without one the rollup
    refresh infers it later, cases/products.py).

    ``opened_at`` is an aware datetime or ISO 8601 text with an offset (default: now); due
    times count from it on the catalog entry's calendar. Raises ``InputError`` (nothing
    written) for an unknown customer, kind, channel, priority or product, or a bad time.
    Permission is the caller's: check it with ``access_case_kind`` first. The new case is
    routed to an agent of its team when the team uses routing (docs/routing.md).
    """
    pk = clean_int(customer_id, field="customer_id")
    if kind not in CaseKind.values:
        raise InputError("kind", f"{kind!r} is not one of {', '.join(CaseKind.values)}")
    if channel not in Channel.values:
        raise InputError("channel", f"{channel!r} is not a channel ({', '.join(Channel.values)})")
    if priority not in Priority.values:
        raise InputError("priority", f"{priority!r} is not one of {', '.join(Priority.values)}")
    clean_subject = clean_str(subject, field="subject", max_length=200, required=False)
    if opened_at is None:
        moment = timezone.now()
    elif isinstance(opened_at, dt.datetime):
        moment = clean_aware_datetime(opened_at.isoformat(), field="opened_at")
    else:
        moment = clean_aware_datetime(opened_at, field="opened_at")
    customer = Customer.objects.filter(pk=pk).only("pk", "tier", "merged_into_id").first()
    if customer is None:
        raise InputError("customer_id", f"no customer #{pk}")
    if customer.merged_into_id:
        raise InputError(
            "customer_id", f"customer #{pk} was merged into #{customer.merged_into_id}"
        )
    chosen = product_by_sku(sku=product, field="product")
    user = actor if isinstance(actor, User) else None
    with transaction.atomic():
        case = _new_case(
            customer_id=pk,
            tier=customer.tier,
            kind=str(kind),
            channel=str(channel),
            subject=clean_subject,
            opened_at=moment,
            priority=str(priority),
            catalog=service_catalog(),
            teams=teams_by_kind(),
            entitled=_entitled(pk, moment),
        )
        if chosen is not None:
            case.product, case.product_source = chosen, ProductSource.SET
        case.save()
        opened = _opened_event(case, user, "opened by hand")
        if chosen is not None:
            opened.changes["product"] = chosen.name
        opened.save()
        cases_route(cases=[case])  # routing (docs/routing.md), when the team uses it
        audit_log(
            actor=actor,
            action=events.CASE_OPENED,
            object_type="case",
            object_id=case.pk,
            customer_id=pk,
            data={"kind": case.kind, "channel": case.channel},
        )
    return case


@dataclass
class _Batch:
    """What one chunk of the pipeline step writes at the end, in one transaction."""

    new_cases: list[Case]
    changed: dict[int, tuple[Case, set[str]]]
    links: list[tuple[Case, int, str]]  # (case, interaction id, role)
    events: list[_Event]  # written as plain rows
    schedules: Schedules = field(default_factory=Schedules)

    def touch(self, case: Case, *fields: str) -> None:
        if case.pk is not None:
            self.changed.setdefault(case.pk, (case, set()))[1].update(fields)


def case_open_or_attach(*, interaction_ids: Sequence[int]) -> int:
    """Pipeline step (after classification): each inbound message joins the customer's open case
    on the same channel when that case's last message is within
    ``settings.KHOSHNUD_CASE_ATTACH_WINDOW_HOURS``, or opens a new case. Returns the number of
    interactions it attached.

    A new case takes its kind from the classified need ("other" → service), is raised to high
    priority by a negative message, counts its due times from the message's ``occurred_at``.
    An outbound message or call joins the open case it answers and stamps the first response:
    the case its ``metadata.case_id`` names (an imported reply), else the customer's latest
    open case on the channel.
    Idempotent: an interaction is in one case at most (a unique link), so a second run skips
    what the first attached; a concurrent run of the same ids fails on that constraint and
    rolls back whole, and its retry finds everything attached.
    """
    ids = sorted({int(i) for i in interaction_ids})
    attached = 0
    prices = _Prices()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for _attempt in range(_CHUNK_ATTEMPTS - 1):
            try:
                attached += _open_or_attach_chunk(chunk, prices)
                break
            except WriteConflict:
                continue  # a case changed meanwhile: decide again
        else:  # the last attempt decides holding the locks: nothing can change under it
            attached += _open_or_attach_chunk(chunk, prices, locked=True)
    return attached


# Fields of an open case that the step neither reads nor writes (not loaded: a fifth of the
# open cases' reading; a deferred field read by mistake would cost one query, not a wrong
# answer).
_NOT_DECIDED_ON = ("subject", "tags", "created_at", "resolved_at", "assignee",
                   "first_response_breached_at", "resolution_breached_at", "follow_up_of")  # fmt: skip
# A chunk whose cases changed between its read and its write is decided again, at most this
# many times in all; the last time inside its transaction, the open cases locked (PostgreSQL
# FOR UPDATE; SQLite's transaction holds the write lock from its start).
_CHUNK_ATTEMPTS = 3


class _Prices:
    """The catalog (with its calendars' schedules) and the kind → team map, taken when a
    chunk first opens a case (from the process's cache) and kept for the rest of the call."""

    _catalog: ServiceCatalog | None = None
    _teams: dict[str, Team] | None = None
    _periods: dict[int, list[SupportPeriod]] | None = None
    _period_customers: frozenset[int] = frozenset()

    def periods(self, customer_ids: set[int]) -> dict[int, list[SupportPeriod]]:
        """The support periods of the chunk's customers (one query per chunk that opens)."""
        if self._periods is None or not customer_ids <= self._period_customers:
            self._periods = support_periods(customer_ids=customer_ids)
            self._period_customers = frozenset(customer_ids)
        return self._periods

    def __init__(self) -> None:
        self.blank = BlankCases()

    def catalog(self) -> ServiceCatalog:
        if self._catalog is None:
            self._catalog, self._teams = _catalog_and_teams()
        return self._catalog

    def teams(self) -> dict[str, Team]:
        if self._teams is None:
            self._catalog, self._teams = _catalog_and_teams()
        return self._teams


# The catalog, its calendars' schedules (with the working intervals of each day they have
# computed) and the teams, kept by this process for KHOSHNUD_CASE_CATALOG_CACHE_SECONDS: the
# worker runs the step for each batch that the API commits, and loading them again was five
# queries and the schedules' arithmetic anew each time. A manager's change to the catalog
# applies to the cases opened after that many seconds at most.
_CATALOG_CACHE: dict[str, tuple[float, ServiceCatalog, dict[str, Team]]] = {}


def _catalog_and_teams() -> tuple[ServiceCatalog, dict[str, Team]]:
    keep = float(getattr(settings, "KHOSHNUD_CASE_CATALOG_CACHE_SECONDS", 5))
    now = time.monotonic()
    cached = _CATALOG_CACHE.get("")
    if cached is not None and now - cached[0] < keep:
        return cached[1], cached[2]
    catalog, teams = service_catalog(), teams_by_kind()
    _CATALOG_CACHE[""] = (now, catalog, teams)
    return catalog, teams


def _open_or_attach_chunk(ids: list[int], prices: _Prices, *, locked: bool = False) -> int:
    """Open or join cases for one chunk: read and decide, then write in one transaction that
    checks each case it changes is still as read (``WriteConflict`` otherwise). ``locked``:
    all of it in one transaction, the open cases locked while deciding (no check needed)."""
    if locked:
        with transaction.atomic():
            return _decide_and_write(ids, prices, locked=True)
    return _decide_and_write(ids, prices, locked=False)


def _decide_and_write(ids: list[int], prices: _Prices, *, locked: bool) -> int:
    rows = pipeline_rows(ids=ids)  # not yet in a case; with tier, need and sentiment
    if not rows:
        return 0
    customer_ids = {r["customer_id"] for r in rows}
    window = dt.timedelta(hours=settings.KHOSHNUD_CASE_ATTACH_WINDOW_HOURS)
    answered = cases_answered(  # email threading by In-Reply-To / References
        metadata={
            r["id"]: r["metadata"]
            for r in rows
            if r["direction"] == Direction.INBOUND and r["channel"] == Channel.EMAIL
        }
    )
    # An imported reply may name its case: it joins that one, not the latest on the channel.
    named = {r["id"]: r["case_ref"] for r in rows if r["case_ref"] is not None}
    open_cases: dict[tuple[int, str], Case] = {}
    by_pk: dict[int, Case] = {}
    # Only a case whose last message is within the window of this chunk's earliest
    # message can take one (the latest open case of a customer and channel always passes
    # when any of theirs does), and the cases that emails answer by their headers.
    since = rows[0]["occurred_at"] - window
    found_cases = (
        Case.objects.filter(
            Q(last_message_at__gte=since) | Q(pk__in={*answered.values(), *named.values()}),
            customer_id__in=customer_ids,
            status__in=OPEN_STATUSES,
        )
        .defer(*_NOT_DECIDED_ON)
        .order_by("last_message_at", "id")
    )
    if locked:
        found_cases = found_cases.select_for_update(no_key=True)
    for found in found_cases:
        open_cases[(found.customer_id, found.channel)] = found  # the latest one wins
        by_pk[found.pk] = found
    batch = _Batch(new_cases=[], changed={}, links=[], events=[])
    for row in rows:
        key = (row["customer_id"], row["channel"])
        case = open_cases.get(key)
        when: dt.datetime = row["occurred_at"]
        near = case is not None and abs(when - case.last_message_at) <= window
        if row["direction"] == Direction.OUTBOUND:
            answers = by_pk.get(named.get(row["id"], 0))
            if answers is not None and answers.customer_id == row["customer_id"]:
                if when >= answers.opened_at:
                    _attach_reply(batch, answers, row)
                continue
            if case is not None and near and when >= case.opened_at:
                _attach_reply(batch, case, row)
            continue
        need, sentiment = row["need"], row["sentiment"]
        negative = sentiment == "negative"
        # An email answering a message of an open case of this customer joins that case,
        # whatever the window or the case's channel.
        threaded = by_pk.get(answered.get(row["id"], 0))
        if threaded is not None and threaded.customer_id == row["customer_id"]:
            _attach_inbound(batch, threaded, row, negative)
            continue
        if case is not None and near:
            _attach_inbound(batch, case, row, negative)
            continue
        new = _new_case(
            customer_id=row["customer_id"],
            tier=row["tier"],
            kind=KIND_BY_NEED.get(need, CaseKind.SERVICE),
            channel=row["channel"],
            subject=_subject(row["text"], row["channel"]),
            opened_at=when,
            priority=Priority.HIGH if negative else Priority.NORMAL,
            catalog=prices.catalog(),
            teams=prices.teams(),
            blank=prices.blank,
            entitled=entitlement_at(prices.periods(customer_ids).get(row["customer_id"], []), when)
            is not None,
        )
        reason = f"message {row['id']}: need {need}" + (", negative" if negative else "")
        batch.new_cases.append(new)
        batch.events.append(_Event(new, events.CASE_OPENED, _opened_changes(new), reason, when))
        batch.links.append((new, row["id"], ThreadRole.OPENING))
        open_cases[key] = new
    # Only the writes hold the write lock (SQLite has one: the API's ingestion waits for
    # it) and run in a transaction; a case changed since it was read above (an agent, a
    # rule) fails the update's check, and the chunk is decided again.
    with transaction.atomic():
        _write(batch, guard=not locked)
        cases_route(cases=batch.new_cases)  # routing (docs/routing.md)
    return len(batch.links)


def _attach_inbound(batch: _Batch, case: Case, row: Mapping[str, Any], negative: bool) -> None:
    # No history row for joining the thread: the link itself says when (attached_at).
    batch.links.append((case, row["id"], ThreadRole.INBOUND))
    if case.status == CaseStatus.WAITING and case.pk is not None:
        # The customer answered: the case is open again and its SLA clock runs on.
        moved, changes = sla_resume(
            case,
            at=max(row["occurred_at"], case.paused_at or row["occurred_at"]),
            schedules=batch.schedules,
        )
        case.status = CaseStatus.OPEN
        batch.touch(case, "status", *moved)
        batch.events.append(
            _Event(
                case=case,
                action=events.CASE_STATUS_CHANGED,
                changes={"status": {"from": CaseStatus.WAITING, "to": CaseStatus.OPEN}, **changes},
                reason="customer answered",
                at=row["occurred_at"],
            )
        )
    if row["occurred_at"] > case.last_message_at:
        case.last_message_at = row["occurred_at"]
        batch.touch(case, "last_message_at")
    if negative and case.priority != _raised(case.priority):
        before, case.priority = case.priority, _raised(case.priority)
        batch.touch(case, "priority")
        batch.events.append(
            _Event(
                case=case,
                action=events.CASE_PRIORITY_RAISED,
                changes={"priority": {"from": before, "to": case.priority}},
                reason=f"negative message {row['id']}",
                at=row["occurred_at"],
            )
        )


def _attach_reply(batch: _Batch, case: Case, row: Mapping[str, Any]) -> None:
    batch.links.append((case, row["id"], ThreadRole.REPLY))
    if case.first_responded_at is None or row["occurred_at"] < case.first_responded_at:
        before, case.first_responded_at = case.first_responded_at, row["occurred_at"]
        batch.touch(case, "first_responded_at")
        batch.events.append(
            _Event(
                case=case,
                action=events.CASE_FIRST_RESPONSE,
                changes={
                    "first_responded_at": {
                        "from": before.isoformat() if before else None,
                        "to": row["occurred_at"].isoformat(),
                    },
                    "interaction": row["id"],
                },
                at=row["occurred_at"],
            )
        )


def _write(batch: _Batch, *, guard: bool = True) -> None:
    """Insert the new cases, then the links and events (which now know their case ids)."""
    at, as_json = datetime_adapter(), json_adapter()
    now_ = timezone.now()
    now, no_tags = at(now_), as_json([])
    columns = ("customer_id", "kind", "status", "priority", "channel", "subject", "team_id",
               "assignee_id", "tags", "opened_at", "last_message_at", "service_level_id",
               "time_zone", "first_response_due", "resolution_due", "first_responded_at",
               "resolved_at", "paused_at", "first_response_breached_at",
               "resolution_breached_at", "follow_up_of_id", "created_at", "updated_at")  # fmt: skip
    rows = [
        (c.customer_id, c.kind, c.status, c.priority, c.channel, c.subject, c.team_id,
         c.assignee_id, as_json(c.tags) if c.tags else no_tags, at(c.opened_at), at(c.last_message_at),
         c.service_level_id, c.time_zone, at(c.first_response_due), at(c.resolution_due),
         at(c.first_responded_at), at(c.resolved_at), at(c.paused_at),
         at(c.first_response_breached_at), at(c.resolution_breached_at), c.follow_up_of_id,
         now, now)
        for c in batch.new_cases
    ]  # fmt: skip
    types = ("bigint", "text", "text", "text", "text", "text", "bigint", "integer", "jsonb",
             "timestamptz", "timestamptz", "bigint", "text", "timestamptz", "timestamptz",
             "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz",
             "bigint", "timestamptz", "timestamptz")  # fmt: skip
    ids = insert_rows_with_ids(table=Case._meta.db_table, columns=columns, rows=rows, types=types)
    for case, pk in zip(batch.new_cases, ids, strict=True):
        case.pk = pk
    _update_changed(batch.changed.values(), now, guard=guard)
    insert_rows(
        table=CaseInteraction._meta.db_table,
        columns=("case_id", "interaction_id", "role", "attached_at"),
        rows=[(case.pk, interaction_id, role, now) for case, interaction_id, role in batch.links],
        types=("bigint", "bigint", "text", "timestamptz"),
    )
    # The "opened" rows of a batch say the same few things (kind, priority, team, catalog
    # entry): each different one is encoded once.
    opened: dict[tuple[Any, ...], Any] = {}

    def encoded(e: _Event) -> Any:
        if e.action != events.CASE_OPENED:
            return as_json(e.changes)
        key = tuple(e.changes.items())
        if key not in opened:
            opened[key] = as_json(e.changes)
        return opened[key]

    insert_rows(
        table=CaseEvent._meta.db_table,
        columns=("case_id", "actor_id", "action", "changes", "reason", "created_at"),
        rows=[
            (e.case.pk, None, e.action, encoded(e), e.reason, at(min(e.at or now_, now_)))
            for e in batch.events
        ],
        types=("bigint", "integer", "text", "jsonb", "text", "timestamptz"),
    )


def _update_changed(
    changed: Iterable[tuple[Case, set[str]]], now: Any, *, guard: bool = True
) -> None:
    """The changed fields of cases already stored: one bulk update per set of fields, of the
    cases still as they were read (``WriteConflict`` when one changed meanwhile; ``guard``
    False: the caller holds the cases' locks)."""
    groups: dict[tuple[str, ...], list[Case]] = {}
    for case, names in changed:
        groups.setdefault(tuple(sorted(names)), []).append(case)
    updated: Any = Case._meta.get_field("updated_at")
    for group, cases in groups.items():
        model_fields: list[Any] = [Case._meta.get_field(name) for name in group]
        rows = [
            (case.pk, *(f.get_db_prep_value(getattr(case, f.attname), connection)
                        for f in model_fields), now,
             *((updated.get_db_prep_value(case.updated_at, connection),) if guard else ()))
            for case in cases
        ]  # fmt: skip
        update_rows(
            table=Case._meta.db_table,
            columns=[f.column for f in model_fields] + ["updated_at"],
            rows=rows,
            types=[_PG_TYPES[f.get_internal_type()] for f in model_fields] + ["timestamptz"],
            unchanged=("updated_at", "timestamptz") if guard else None,
        )


# Column types of the case fields the pipeline step changes, as PostgreSQL casts them.
_PG_TYPES = {"DateTimeField": "timestamptz", "CharField": "text", "ForeignKey": "bigint",
             "BigIntegerField": "bigint", "IntegerField": "integer"}  # fmt: skip


def cases_erase_subjects(*, customer_id: int) -> int:
    """Erase handler (customers.references): a case's subject may quote the customer's first
    message, so a privacy erasure blanks it; the case and its history of states stay."""
    return Case.objects.filter(customer_id=customer_id).exclude(subject="").update(subject="")


# --- The agents' desk: take / assign, status, priority, hand-off, internal notes -------------
#
# Each write below is one transaction on the locked case row, checks the actor against the one
# access rule (``cases.access.access_case``), refuses bad input with ``InputError`` before
# anything is written, and records a ``CaseEvent`` naming the actor. A closed case is final:
# every change to it is refused.

# Which status may follow which (setting the status it already has is a no-op, no event).
# "new" is only where a case starts; a resolved case may be reopened; a closed one is final.
STATUS_NEXT: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({CaseStatus.OPEN, CaseStatus.WAITING, CaseStatus.RESOLVED,
                               CaseStatus.CLOSED}),
    CaseStatus.OPEN: frozenset({CaseStatus.WAITING, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.WAITING: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}  # fmt: skip
NOTE_SOURCE = "khoshnud.case-note"
NOTE_MAX_LENGTH = 10_000


def _desk_case(*, actor: Actor, case_id: object) -> tuple[User, Case]:
    """The case locked for update, if ``actor`` may change it and it is not closed.

    Raises ``Case.DoesNotExist``, ``PermissionDenied`` (the access rule) or ``InputError``.
    Call inside ``transaction.atomic()``.
    """
    from khoshnud.cases.access import access_case  # access imports selectors, not services

    pk = clean_int(case_id, field="case_id")
    if not isinstance(actor, User):
        raise PermissionDenied("a signed-in staff member is needed")
    access_case(user=actor, case_id=pk)
    # No select_related: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    case = Case.objects.select_for_update().get(pk=pk)
    if case.status == CaseStatus.CLOSED:
        raise InputError("status", f"case {pk} is closed; a closed case cannot be changed")
    return actor, case


def _event(
    case: Case,
    actor: User,
    action: str,
    changes: dict[str, Any],
    reason: str = "",
    at: dt.datetime | None = None,
) -> None:
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=action,
        changes=changes,
        reason=reason[:200],
        created_at=at or timezone.now(),
    )


def _moment(at: object, case: Case) -> dt.datetime:
    """When a desk change happens: now, or ``at`` — a change recorded after the fact (history
    brought from another tool, the demo's), so the case's times, its SLA clock and its history
    say when it really happened. Refused (``InputError``) when ``at`` is not an aware
    date-time, is in the future or is before the case opened."""
    now = timezone.now()
    if at is None:
        return now
    moment = clean_aware_datetime(at, field="at")
    if moment > now:
        raise InputError("at", f"{moment.isoformat()} is in the future")
    if moment < case.opened_at:
        raise InputError("at", f"{moment.isoformat()} is before case {case.pk} opened")
    return moment


def case_assign(*, case_id: object, assignee_id: object, actor: Actor, at: object = None) -> Case:
    """Assign the case to an agent of its team (``assignee_id`` = the actor's own id: take it;
    ``None``: unassign). Refused (``InputError``, nothing changed) for an unknown or inactive
    user, one without the agent role, one who is not in the case's team, or one who is away or
    lacks the case's kind or the customer's language in their routing profile (the cap does
    not apply by hand; docs/routing.md). ``at``: when it happened, if not now (``_moment``)."""
    with transaction.atomic():
        user, case = _desk_case(actor=actor, case_id=case_id)
        moment = _moment(at, case)
        assignee: User | None = None
        if assignee_id not in (None, ""):
            target = clean_int(assignee_id, field="assignee_id")
            assignee = User.objects.filter(pk=target, is_active=True).first()
            if assignee is None:
                raise InputError("assignee_id", f"no active staff member #{target}")
            if not user_has_role(assignee, Role.AGENT):
                raise InputError("assignee_id", f"{assignee.get_username()} has no staff role")
            if (
                case.team_id is None
                or not Team.objects.filter(pk=case.team_id, members=assignee).exists()
            ):
                team = case.team.name if case.team_id and case.team else "no team"
                raise InputError(
                    "assignee_id",
                    f"{assignee.get_username()} is not in the case's team ({team})",
                )
            refusal = (
                case_assignment_refusal(case=case, user=assignee)
                if assignee.pk != case.assignee_id
                else None
            )
            if refusal is not None:  # away, or without the kind or the language
                raise InputError("assignee_id", refusal)
        if case.assignee_id == (assignee.pk if assignee else None):
            return case
        before = case.assignee.get_username() if case.assignee_id and case.assignee else None
        case.assignee = assignee
        changes: dict[str, Any] = {
            "assignee": {"from": before, "to": assignee.get_username() if assignee else None}
        }
        fields = ["assignee"]
        if assignee is not None and case.status == CaseStatus.NEW:
            case.status = CaseStatus.OPEN  # someone is on it now
            changes["status"] = {"from": CaseStatus.NEW, "to": CaseStatus.OPEN}
            fields.append("status")
        case.save(update_fields=[*fields, "updated_at"])
        reason = "taken" if assignee is not None and assignee.pk == user.pk else ""
        _event(case, user, events.CASE_ASSIGNED, changes, reason, moment)
    return case


def case_take(*, case_id: object, actor: Actor) -> Case:
    """The actor takes an unassigned case of their team (``case_assign`` to themselves).

    Refused (``InputError``, nothing changed) when someone else has it already — two agents
    clicking *Take* at once: the row lock makes the second one see the first one's take.
    Taking a case you already have changes nothing."""
    with transaction.atomic():
        user, case = _desk_case(actor=actor, case_id=case_id)
        if case.assignee_id is not None and case.assignee_id != user.pk:
            holder = case.assignee.get_username() if case.assignee else "someone"
            raise InputError("assignee_id", f"case {case.pk} is already taken by {holder}")
        return case_assign(case_id=case.pk, assignee_id=user.pk, actor=user)


def case_status_set(
    *, case_id: object, status: object, actor: Actor, reason: str = "", at: object = None
) -> Case:
    """Move the case to ``status`` (open, waiting, resolved, closed) along ``STATUS_NEXT``.

    Resolving stamps ``resolved_at``; reopening a resolved case clears it. Refused
    (``InputError``) for an unknown status, "new", or a move the table does not allow.
    ``at``: when it happened, if not now (``_moment``): the stamps, the SLA pause and the
    history take that moment.
    """
    with transaction.atomic():
        user, case = _desk_case(actor=actor, case_id=case_id)
        moment = _moment(at, case)
        if status not in CaseStatus.values:
            raise InputError("status", f"{status!r} is not one of {', '.join(CaseStatus.values)}")
        if status == case.status:
            return case
        if status not in STATUS_NEXT[case.status]:
            raise InputError("status", f"a {case.status} case cannot become {status}")
        before, case.status = case.status, str(status)
        fields = ["status"]
        changes: dict[str, Any] = {"status": {"from": before, "to": case.status}}
        now = moment
        if status == CaseStatus.WAITING:  # the SLA clock stops (cases/sla.py)
            fields += sla_pause(case, at=now)
        elif before == CaseStatus.WAITING:  # …and starts again, the due times moved
            moved, sla_changes = sla_resume(case, at=now)
            fields += moved
            changes.update(sla_changes)
        if status == CaseStatus.RESOLVED:
            case.resolved_at = now
            fields.append("resolved_at")
        elif before == CaseStatus.RESOLVED and status == CaseStatus.OPEN:
            case.resolved_at = None
            fields.append("resolved_at")
        case.save(update_fields=[*fields, "updated_at"])
        reopened = before == CaseStatus.RESOLVED and status == CaseStatus.OPEN
        action_reason = reason or ("reopened" if reopened else "")
        _event(case, user, events.CASE_STATUS_CHANGED, changes, action_reason, moment)
        if case.status == CaseStatus.RESOLVED:
            announce_resolved(case_id=case.pk, actor_id=user.pk)
    return case


def case_priority_set(*, case_id: object, priority: object, actor: Actor) -> Case:
    """Set the priority by hand (low, normal, high, urgent)."""
    with transaction.atomic():
        user, case = _desk_case(actor=actor, case_id=case_id)
        if priority not in Priority.values:
            raise InputError("priority", f"{priority!r} is not one of {', '.join(Priority.values)}")
        if priority == case.priority:
            return case
        before, case.priority = case.priority, str(priority)
        case.save(update_fields=["priority", "updated_at"])
        _event(case, user, events.CASE_PRIORITY_CHANGED,
               {"priority": {"from": before, "to": case.priority}})  # fmt: skip
    return case


def case_kind_change(
    *, case_id: object, kind: object, actor: Actor, reason: str = "", at: object = None
) -> Case:
    """Hand the case off: it takes the new kind and moves to the team serving it, keeping its
    thread (the customer repeats nothing). The assignee is cleared unless they are in the new
    team too, and an unassigned case is routed within the new team (docs/routing.md); due
    times are counted again from ``opened_at`` with the new kind's catalog entry (kept when
    there is none). Records ``case.handed_off`` (``case_handoffs`` counts them).
    Refused for an unknown kind or the kind the case already has. ``at``: when it happened,
    if not now (``_moment``)."""
    with transaction.atomic():
        user, case = _desk_case(actor=actor, case_id=case_id)
        moment = _moment(at, case)
        if kind not in CaseKind.values:
            raise InputError("kind", f"{kind!r} is not one of {', '.join(CaseKind.values)}")
        if kind == case.kind:
            raise InputError("kind", f"case {case.pk} is already a {kind} case")
        team = teams_by_kind().get(str(kind))
        old_team = case.team.name if case.team_id and case.team else None
        changes: dict[str, Any] = {
            "kind": {"from": case.kind, "to": kind},
            "team": {"from": old_team, "to": team.name if team else None},
        }
        case.kind, case.team = str(kind), team
        fields = ["kind", "team"]
        if case.assignee_id is not None and (
            team is None or not team.members.filter(pk=case.assignee_id).exists()
        ):
            gone = case.assignee.get_username() if case.assignee else None
            changes["assignee"] = {"from": gone, "to": None}
            case.assignee = None
            fields.append("assignee")
        tier = Customer.objects.filter(pk=case.customer_id).values_list("tier", flat=True).first()
        catalog = service_catalog()
        entry = catalog.entry_for(kind=case.kind, tier=tier or "standard", channel=case.channel)
        if entry is not None:
            entitled = _entitled(case.customer_id, case.opened_at)
            due = catalog.due_times(entry=entry, opened_at=case.opened_at, entitled=entitled)
            case.service_level = entry
            case.first_response_due = due.first_response_due
            case.resolution_due = due.resolution_due
            case.time_zone = due.time_zone
            fields += ["service_level", "first_response_due", "resolution_due", "time_zone"]
        case.save(update_fields=[*fields, "updated_at"])
        _event(case, user, events.CASE_HANDED_OFF, changes, reason, moment)
        cases_route(cases=[case])  # unassigned now: routed within the new team
    return case


def case_note_add(*, case_id: object, text: object, actor: Actor) -> Interaction:
    """An internal note on the case: an interaction of type ``note`` in the log (so the 360
    shows it to staff), direction outbound (the log knows only inbound and outbound), linked
    to the thread as a note. It is never sent: no pipeline step, no channel delivery, and it
    is not a first response."""
    clean = clean_str(text, field="text", max_length=NOTE_MAX_LENGTH, required=True)
    with transaction.atomic():
        user, case = _desk_case(actor=actor, case_id=case_id)
        now = timezone.now()
        note = Interaction.objects.create(
            customer_id=case.customer_id,
            channel=case.channel,
            direction=Direction.OUTBOUND,
            type=InteractionType.NOTE,
            occurred_at=now,
            text=clean,
            metadata={"case_id": case.pk, "internal": True},
            staff=user,
            source=NOTE_SOURCE,
            external_id=uuid.uuid4().hex,
            created_at=now,
        )
        CaseInteraction.objects.create(case=case, interaction=note, role=ThreadRole.NOTE)
        case.save(update_fields=["updated_at"])
        _event(case, user, events.CASE_NOTE_ADDED, {"interaction": note.pk})
    return note


def case_interaction_attach(
    *, case_id: int, interaction_id: int, role: str = ThreadRole.INBOUND
) -> bool:
    """Put an existing interaction on a case's thread (another app's follow-up: a survey
    answer on the care case it opened). Idempotent: an interaction already on a case stays
    where it is; returns whether it was attached now."""
    _link, created = CaseInteraction.objects.get_or_create(
        interaction_id=interaction_id, defaults={"case_id": case_id, "role": role}
    )
    return created
