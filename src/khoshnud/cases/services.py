"""Writes of cases: open one by hand, and the pipeline step that turns inbound messages into cases.

Each function is one transaction and writes the case's history (``CaseEvent``) with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from khoshnud import events
from khoshnud.accounts.models import Team
from khoshnud.accounts.services import audit_log
from khoshnud.cases.models import (
    INBOUND_TYPES,
    OPEN_STATUSES,
    PRIORITY_ORDER,
    REPLY_TYPES,
    Case,
    CaseEvent,
    CaseInteraction,
    CaseKind,
    Priority,
    ThreadRole,
)
from khoshnud.cases.selectors import cases_answered, teams_by_kind
from khoshnud.customers.models import Customer
from khoshnud.db import datetime_adapter, insert_rows, json_adapter
from khoshnud.inputs import InputError, clean_aware_datetime, clean_int, clean_str
from khoshnud.interactions.models import Channel, Direction, Interaction
from khoshnud.language.selectors import need_and_sentiment
from khoshnud.servicelevels.selectors import ServiceCatalog, service_catalog

Actor = AbstractBaseUser | AnonymousUser | None

# The classified need → the kind of case. "other" (greetings, thanks, spam) is service's to sort.
KIND_BY_NEED = {
    "service": CaseKind.SERVICE,
    "support": CaseKind.SUPPORT,
    "care": CaseKind.CARE,
    "other": CaseKind.SERVICE,
}
_CHUNK = 500


def _raised(priority: str) -> str:
    """One step up, to high at most: urgent is a person's decision, not a classifier's."""
    index = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[min(max(index + 1, 0), PRIORITY_ORDER.index(Priority.HIGH))]


def _subject(text: str, channel: str) -> str:
    line = " ".join(text.split())
    if not line:
        return str(Channel(channel).label) if channel in Channel.values else channel
    return line if len(line) <= 80 else line[:79] + "…"


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
) -> Case:
    """An unsaved case with its team and due times from the catalog (none without an entry)."""
    case = Case(
        customer_id=customer_id,
        kind=kind,
        channel=channel,
        subject=subject,
        opened_at=opened_at,
        last_message_at=opened_at,
        priority=priority,
        team=teams.get(kind),
        time_zone=settings.TIME_ZONE,
    )
    entry = catalog.entry_for(kind=kind, tier=tier, channel=channel)
    if entry is not None:
        due = catalog.due_times(entry=entry, opened_at=opened_at)
        case.service_level = entry
        case.first_response_due = due.first_response_due
        case.resolution_due = due.resolution_due
        case.time_zone = due.time_zone
    return case


def _opened_event(case: Case, actor: User | None, reason: str) -> CaseEvent:
    return CaseEvent(
        case=case,
        actor=actor,
        action=events.CASE_OPENED,
        reason=reason,
        changes={
            "kind": case.kind,
            "priority": case.priority,
            "team": case.team.name if case.team else None,
            "service_level": str(case.service_level) if case.service_level else None,
        },
    )


def case_open(
    *,
    customer_id: object,
    kind: object,
    channel: object,
    subject: object = "",
    opened_at: object = None,
    priority: object = Priority.NORMAL,
    actor: Actor = None,
) -> Case:
    """Open a case by hand (a phone call, a visit): transactional, audited, history written.

    ``opened_at`` is an aware datetime or ISO 8601 text with an offset (default: now); due
    times count from it on the catalog entry's calendar. Raises ``InputError`` (nothing
    written) for an unknown customer, kind, channel or priority, or a bad time. Permission is
    the caller's: check it with ``access_case_kind`` first.
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
        )
        case.save()
        _opened_event(case, user, "opened by hand").save()
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
    events: list[CaseEvent]  # unsaved; written as plain rows

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
    An outbound message or call joins the open case it answers and stamps the first response.
    Idempotent: an interaction is in one case at most (a unique link), so a second run skips
    what the first attached; a concurrent run of the same ids fails on that constraint and
    rolls back whole, and its retry finds everything attached.
    """
    ids = sorted({int(i) for i in interaction_ids})
    attached = 0
    for start in range(0, len(ids), _CHUNK):
        attached += _open_or_attach_chunk(ids[start : start + _CHUNK])
    return attached


def _open_or_attach_chunk(ids: list[int]) -> int:
    linked = set(
        CaseInteraction.objects.filter(interaction_id__in=ids).values_list(
            "interaction_id", flat=True
        )
    )
    todo = [i for i in ids if i not in linked]
    if not todo:
        return 0
    rows = list(
        Interaction.objects.filter(pk__in=todo, erased_at__isnull=True)
        .filter(
            Q(direction=Direction.INBOUND, type__in=INBOUND_TYPES)
            | Q(direction=Direction.OUTBOUND, type__in=REPLY_TYPES)
        )
        .order_by("occurred_at", "id")
        .values("id", "customer_id", "channel", "direction", "occurred_at", "text", "metadata")
    )
    if not rows:
        return 0
    customer_ids = {r["customer_id"] for r in rows}
    inbound_ids = [r["id"] for r in rows if r["direction"] == Direction.INBOUND]
    labels = need_and_sentiment(interaction_ids=inbound_ids)
    window = dt.timedelta(hours=settings.KHOSHNUD_CASE_ATTACH_WINDOW_HOURS)
    answered = cases_answered(  # email threading by In-Reply-To / References
        metadata={
            r["id"]: r["metadata"]
            for r in rows
            if r["direction"] == Direction.INBOUND and r["channel"] == Channel.EMAIL
        }
    )
    with transaction.atomic():
        tiers = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "tier"))
        open_cases: dict[tuple[int, str], Case] = {}
        by_pk: dict[int, Case] = {}
        for found in Case.objects.filter(
            customer_id__in=customer_ids, status__in=OPEN_STATUSES
        ).order_by("last_message_at", "id"):
            open_cases[(found.customer_id, found.channel)] = found  # the latest one wins
            by_pk[found.pk] = found
        batch = _Batch(new_cases=[], changed={}, links=[], events=[])
        catalog: ServiceCatalog | None = None
        teams: dict[str, Team] | None = None
        for row in rows:
            key = (row["customer_id"], row["channel"])
            case = open_cases.get(key)
            when: dt.datetime = row["occurred_at"]
            near = case is not None and abs(when - case.last_message_at) <= window
            if row["direction"] == Direction.OUTBOUND:
                if case is not None and near and when >= case.opened_at:
                    _attach_reply(batch, case, row)
                continue
            need, sentiment = labels.get(row["id"], ("other", "neutral"))
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
            if catalog is None or teams is None:
                catalog, teams = service_catalog(), teams_by_kind()
            new = _new_case(
                customer_id=row["customer_id"],
                tier=tiers.get(row["customer_id"], "standard"),
                kind=KIND_BY_NEED.get(need, CaseKind.SERVICE),
                channel=row["channel"],
                subject=_subject(row["text"], row["channel"]),
                opened_at=when,
                priority=Priority.HIGH if negative else Priority.NORMAL,
                catalog=catalog,
                teams=teams,
            )
            reason = f"message {row['id']}: need {need}" + (", negative" if negative else "")
            batch.new_cases.append(new)
            batch.events.append(_opened_event(new, None, reason))
            batch.links.append((new, row["id"], ThreadRole.OPENING))
            open_cases[key] = new
        _write(batch)
    return len(batch.links)


def _attach_inbound(batch: _Batch, case: Case, row: Mapping[str, Any], negative: bool) -> None:
    # No history row for joining the thread: the link itself says when (attached_at).
    batch.links.append((case, row["id"], ThreadRole.INBOUND))
    if row["occurred_at"] > case.last_message_at:
        case.last_message_at = row["occurred_at"]
        batch.touch(case, "last_message_at")
    if negative and case.priority != _raised(case.priority):
        before, case.priority = case.priority, _raised(case.priority)
        batch.touch(case, "priority")
        batch.events.append(
            CaseEvent(
                case=case,
                action=events.CASE_PRIORITY_RAISED,
                changes={"priority": {"from": before, "to": case.priority}},
                reason=f"negative message {row['id']}",
            )
        )


def _attach_reply(batch: _Batch, case: Case, row: Mapping[str, Any]) -> None:
    batch.links.append((case, row["id"], ThreadRole.REPLY))
    if case.first_responded_at is None or row["occurred_at"] < case.first_responded_at:
        before, case.first_responded_at = case.first_responded_at, row["occurred_at"]
        batch.touch(case, "first_responded_at")
        batch.events.append(
            CaseEvent(
                case=case,
                action=events.CASE_FIRST_RESPONSE,
                changes={
                    "first_responded_at": {
                        "from": before.isoformat() if before else None,
                        "to": row["occurred_at"].isoformat(),
                    },
                    "interaction": row["id"],
                },
            )
        )


def _write(batch: _Batch) -> None:
    """Insert the new cases, then the links and events (which now know their case ids)."""
    at, as_json = datetime_adapter(), json_adapter()
    now = at(timezone.now())
    columns = ("customer_id", "kind", "status", "priority", "channel", "subject", "team_id",
               "assignee_id", "tags", "opened_at", "last_message_at", "service_level_id",
               "time_zone", "first_response_due", "resolution_due", "first_responded_at",
               "resolved_at", "created_at", "updated_at")  # fmt: skip
    rows = [
        (c.customer_id, c.kind, c.status, c.priority, c.channel, c.subject, c.team_id,
         c.assignee_id, as_json(c.tags), at(c.opened_at), at(c.last_message_at),
         c.service_level_id, c.time_zone, at(c.first_response_due), at(c.resolution_due),
         at(c.first_responded_at), at(c.resolved_at), now, now)
        for c in batch.new_cases
    ]  # fmt: skip
    ids = insert_rows(table=Case._meta.db_table, columns=columns, rows=rows, returning="id")
    for case, pk in zip(batch.new_cases, ids, strict=True):
        case.pk = pk
    for case, fields in batch.changed.values():
        case.save(update_fields=[*sorted(fields), "updated_at"])
    insert_rows(
        table=CaseInteraction._meta.db_table,
        columns=("case_id", "interaction_id", "role", "attached_at"),
        rows=[(case.pk, interaction_id, role, now) for case, interaction_id, role in batch.links],
    )
    insert_rows(
        table=CaseEvent._meta.db_table,
        columns=("case_id", "actor_id", "action", "changes", "reason", "created_at"),
        rows=[
            (e.case.pk, e.actor_id, e.action, as_json(e.changes), e.reason, now)
            for e in batch.events
        ],
    )


def cases_erase_subjects(*, customer_id: int) -> int:
    """Erase handler (customers.references): a case's subject may quote the customer's first
    message, so a privacy erasure blanks it; the case and its history of states stay."""
    return Case.objects.filter(customer_id=customer_id).exclude(subject="").update(subject="")
