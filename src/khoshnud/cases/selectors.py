"""Reads of cases: the team serving a kind, a customer's cases, a case's thread."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from khoshnud import events
from khoshnud.accounts.models import Team
from khoshnud.cases.models import (
    INBOUND_TYPES,
    OPEN_STATUSES,
    REPLY_TYPES,
    Case,
    CaseEvent,
    CaseInteraction,
)
from khoshnud.channels.email_outbound import SOURCE as EMAIL_SOURCE
from khoshnud.channels.email_outbound import email_key
from khoshnud.customers.models import Customer
from khoshnud.customers.search import fold
from khoshnud.db import is_postgres, select_rows
from khoshnud.inputs import clean_query_text
from khoshnud.interactions.models import Channel, Direction, Interaction
from khoshnud.language.models import MessageAnalysis


def teams_by_kind() -> dict[str, Team]:
    """kind → Team, from ``settings.KHOSHNUD_CASE_TEAMS`` (kind → team name); one query.

    A kind whose team does not exist is missing: its cases get no team, and only managers
    see them.
    """
    names: dict[str, str] = settings.KHOSHNUD_CASE_TEAMS
    teams = {t.name: t for t in Team.objects.filter(name__in=set(names.values()))}
    return {kind: teams[name] for kind, name in names.items() if name in teams}


def team_for_kind(*, kind: str) -> Team | None:
    return teams_by_kind().get(kind)


def case_interaction_ids(*, case_ids: Sequence[int]) -> dict[int, list[int]]:
    """The thread of each case as interaction ids in the order they occurred (one query)."""
    out: dict[int, list[int]] = {pk: [] for pk in case_ids}
    rows = (
        CaseInteraction.objects.filter(case_id__in=list(case_ids))
        .order_by("case_id", "interaction__occurred_at", "interaction_id")
        .values_list("case_id", "interaction_id")
    )
    for case_id, interaction_id in rows:
        out[case_id].append(interaction_id)
    return out


def open_cases_of_customer(
    *, cases: QuerySet[Case], customer_id: int, limit: int = 20
) -> list[Case]:
    """A customer's open cases (new, open, waiting) among ``cases`` (already filtered by
    ``access.cases_visible_to``), most urgent due first, for the customer 360."""
    return list(
        cases.filter(customer_id=customer_id, status__in=OPEN_STATUSES)
        .select_related("team", "assignee")
        .order_by(F("resolution_due").asc(nulls_last=True), "-opened_at", "-id")[:limit]
    )


def case_local(case: Case, moment: dt.datetime | None) -> dt.datetime | None:
    """A case's time in its business calendar's zone (ISO 8601 then carries that offset)."""
    return None if moment is None else moment.astimezone(ZoneInfo(case.time_zone))


def case_summary(case: Case, interaction_ids: list[int]) -> dict[str, Any]:
    """The public shape of a case (API and UI)."""
    return {
        "id": case.pk,
        "customer_id": case.customer_id,
        "kind": case.kind,
        "status": case.status,
        "priority": case.priority,
        "team": case.team.name if case.team_id and case.team else None,
        "assignee": case.assignee.get_username() if case.assignee_id and case.assignee else None,
        "channel": case.channel,
        "subject": case.subject,
        "tags": list(case.tags),
        "time_zone": case.time_zone,
        "opened_at": case_local(case, case.opened_at),
        "first_response_due": case_local(case, case.first_response_due),
        "resolution_due": case_local(case, case.resolution_due),
        "first_responded_at": case_local(case, case.first_responded_at),
        "resolved_at": case_local(case, case.resolved_at),
        "paused_at": case_local(case, case.paused_at),
        "first_response_breached_at": case_local(case, case.first_response_breached_at),
        "resolution_breached_at": case_local(case, case.resolution_breached_at),
        "follow_up_of": case.follow_up_of_id,
        "product": case.product.sku if case.product_id and case.product else None,
        "product_source": case.product_source,
        "interaction_ids": interaction_ids,
    }


def interactions_without_case(*, after_id: int = 0, limit: int = 500) -> list[int]:
    """What the case step has missed (the pipeline's backfill selector): ids above
    ``after_id``, ascending, at most ``limit``, of inbound messages, calls, visits and reviews,
    not erased, in no case — each of which ``services.case_open_or_attach`` attaches or opens a
    case for. (An outbound reply with no open case to answer stays outside cases by design.)"""
    linked = CaseInteraction.objects.filter(interaction_id=OuterRef("pk"))
    return list(
        Interaction.objects.filter(
            pk__gt=after_id,
            direction=Direction.INBOUND,
            type__in=INBOUND_TYPES,
            erased_at__isnull=True,
        )
        .filter(~Exists(linked))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def pipeline_rows(*, ids: Sequence[int]) -> list[dict[str, Any]]:
    """What the case step needs of each interaction of ``ids`` not yet in a case: inbound
    messages, calls, visits and reviews, and staff messages and calls; not erased. One query,
    in time order: the interaction's columns, its customer's tier, and its classified need and
    sentiment (an agent's correction winning; "other" / "neutral" when not classified). The
    text is cut to what a subject takes; metadata comes for inbound email only (threading), and
    ``case_ref`` is the case a staff message names (``metadata.case_id``, an imported reply).

    PostgreSQL probes each id through its indexes (LATERAL … LIMIT 1): its planner, with
    statistics behind a bulk load, hash-joined whole tables for a plain join.
    """
    if not ids:
        return []
    inbound = ", ".join(f"'{t}'" for t in INBOUND_TYPES)
    replies = ", ".join(f"'{t}'" for t in REPLY_TYPES)
    interactions = Interaction._meta.db_table
    links = CaseInteraction._meta.db_table
    customers = Customer._meta.db_table
    analyses = MessageAnalysis._meta.db_table
    wanted = (
        "t.erased_at IS NULL AND ("
        f"(t.direction = '{Direction.INBOUND}' AND t.type IN ({inbound})) OR "
        f"(t.direction = '{Direction.OUTBOUND}' AND t.type IN ({replies})))"
    )
    # SQLite: the time as its stored text, read by datetime.fromisoformat below (the driver's
    # converter for the declared column type parses with a regex: 3 µs a row).
    occurred = "t.occurred_at" if is_postgres() else "t.occurred_at || ''"
    columns = (
        f"t.id, t.customer_id, t.channel, t.direction, {occurred}, substr(t.text, 1, 1000), "
        f"CASE WHEN t.channel = '{Channel.EMAIL}' AND t.direction = '{Direction.INBOUND}' "
        "THEN t.metadata END, c.tier, "
        "COALESCE(NULLIF(a.corrected_need, ''), a.need, 'other'), "
        "COALESCE(NULLIF(a.corrected_sentiment, ''), a.sentiment, 'neutral'), "
        f"CASE WHEN t.direction = '{Direction.OUTBOUND}' THEN "
        + ("t.metadata ->> 'case_id'" if is_postgres() else "json_extract(t.metadata, '$.case_id')")
        + " END"
    )
    if is_postgres():
        sql = (
            f"SELECT {columns} FROM unnest(%s::bigint[]) AS k(v) "  # noqa: S608 - code, not input
            f"CROSS JOIN LATERAL (SELECT * FROM {interactions} t WHERE t.id = k.v LIMIT 1) t "
            f"CROSS JOIN LATERAL (SELECT tier FROM {customers} c WHERE c.id = t.customer_id "
            "LIMIT 1) c "
            f"LEFT JOIN LATERAL (SELECT * FROM {analyses} a WHERE a.interaction_id = t.id "
            "LIMIT 1) a ON true "
            f"LEFT JOIN LATERAL (SELECT 1 AS linked FROM {links} l WHERE l.interaction_id = k.v "
            f"LIMIT 1) l ON true WHERE l.linked IS NULL AND {wanted} "
            "ORDER BY t.occurred_at, t.id"
        )
        params: list[Any] = [list(ids)]
    else:
        marks = ", ".join(["%s"] * len(ids))
        sql = (
            f"SELECT {columns} FROM {interactions} t "  # noqa: S608 - code, not input
            f"JOIN {customers} c ON c.id = t.customer_id "
            f"LEFT JOIN {analyses} a ON a.interaction_id = t.id "
            f"LEFT JOIN {links} l ON l.interaction_id = t.id "
            f"WHERE t.id IN ({marks}) AND l.id IS NULL AND {wanted} "
            "ORDER BY t.occurred_at, t.id"
        )
        params = list(ids)
    out = []
    for (pk, customer_id, channel, direction, when, text, metadata, tier, need, sentiment,
         ref) in select_rows(sql, params, binary_results=True):  # fmt: skip
        if isinstance(when, str):  # SQLite: naive UTC text
            when = dt.datetime.fromisoformat(when)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        case_ref = None
        if ref is not None and str(ref).isdigit() and int(ref) < 2**63:
            case_ref = int(ref)  # a number on SQLite, its text on PostgreSQL
        out.append({"id": pk, "customer_id": customer_id, "channel": channel,
                    "direction": direction, "occurred_at": when, "text": text or "",
                    "metadata": metadata, "tier": tier, "need": need, "sentiment": sentiment,
                    "case_ref": case_ref})  # fmt: skip
    return out


def cases_answered(*, metadata: Mapping[int, Any]) -> dict[int, int]:
    """Email threading: inbound email's interaction id → the id of the case holding the message
    it answers (its In-Reply-To, else the newest of its References that is on a case), from
    ``metadata`` (interaction id → its metadata, inbound emails only). No query when no
    message names another; two otherwise."""
    refs_of: dict[int, list[str]] = {}
    for pk, data in metadata.items():
        meta = (data or {}).get("email") if isinstance(data, dict) else None
        if not isinstance(meta, dict):
            continue
        refs = [meta.get("in_reply_to"), *reversed(meta.get("references") or [])]
        keys = [email_key(r) for r in refs if isinstance(r, str) and r]
        if keys:
            refs_of[pk] = keys
    if not refs_of:
        return {}
    wanted = {k for keys in refs_of.values() for k in keys}
    by_key = dict(
        Interaction.objects.filter(source=EMAIL_SOURCE, external_id__in=wanted).values_list(
            "external_id", "pk"
        )
    )
    case_of = dict(
        CaseInteraction.objects.filter(interaction_id__in=by_key.values()).values_list(
            "interaction_id", "case_id"
        )
    )
    out: dict[int, int] = {}
    for pk, keys in refs_of.items():
        for key in keys:
            case_id = case_of.get(by_key.get(key, 0))
            if case_id is not None:
                out[pk] = case_id
                break
    return out


# --- The agents' inbox and the case page ---------------------------------------------------

INBOX_TABS = ("mine", "team", "unassigned", "breaching")


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox shows: a tab, filters (empty = any) and a search text."""

    tab: str = "team"
    kind: str = ""
    status: str = ""
    priority: str = ""
    channel: str = ""
    language: str = ""
    team_id: int | None = None
    query: str = ""


def inbox_cases(
    *,
    cases: QuerySet[Case],
    user_id: int,
    flt: InboxFilter,
    now: dt.datetime,
    breach_hours: float | None = None,
) -> QuerySet[Case]:
    """The inbox rows among ``cases`` (already ``access.cases_visible_to``): most urgent
    resolution due first, then newest.

    Tabs: ``mine`` (assigned to the user), ``team`` (the cases of the user's teams — every case
    for a manager in no team), ``unassigned``, ``breaching`` (open cases due to be resolved
    within ``settings.KHOSHNUD_INBOX_BREACHING_HOURS`` wall-clock hours of ``now``, or already
    past due; not those waiting on the customer, whose clock is stopped). Without a status filter only open cases (new, open, waiting) are shown.
    """
    qs = cases
    if flt.tab == "mine":
        qs = qs.filter(assignee_id=user_id)
    elif flt.tab == "team":
        mine = Team.objects.filter(members__id=user_id)
        if mine.exists():
            qs = qs.filter(team__in=mine)
    elif flt.tab == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif flt.tab == "breaching":
        hours = settings.KHOSHNUD_INBOX_BREACHING_HOURS if breach_hours is None else breach_hours
        qs = qs.filter(resolution_due__lte=now + dt.timedelta(hours=hours))
        qs = qs.exclude(paused_at__isnull=False)  # waiting on the customer: its clock is stopped
    qs = qs.filter(status=flt.status) if flt.status else qs.filter(status__in=OPEN_STATUSES)
    for field, value in (
        ("kind", flt.kind),
        ("priority", flt.priority),
        ("channel", flt.channel),
        ("customer__locale", flt.language),
    ):
        if value:
            qs = qs.filter(**{field: value})
    if flt.team_id is not None:
        qs = qs.filter(team_id=flt.team_id)
    text = clean_query_text(flt.query) if flt.query else ""
    if text:
        qs = qs.filter(Q(subject__icontains=text) | Q(customer__search_text__contains=fold(text)))
    return qs.select_related("customer", "team", "assignee").order_by(
        F("resolution_due").asc(nulls_last=True), "-opened_at", "-id"
    )


def case_handoffs(*, case_ids: Sequence[int]) -> dict[int, int]:
    """How many times each case was handed off (``case.handed_off`` events, and the care
    follow-up a hand-off rule opened after it: ``case.follow_up``); one query."""
    counts = dict.fromkeys(case_ids, 0)
    rows = (
        CaseEvent.objects.filter(case_id__in=list(case_ids), action__in=events.HANDOFF_ACTIONS)
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    counts.update(dict(rows))
    return counts


def case_thread(*, case: Case) -> list[Interaction]:
    """The case's thread (inbound messages, replies, internal notes) oldest first, not erased
    messages' text included as the log keeps it (erased rows have blank text)."""
    ids = CaseInteraction.objects.filter(case=case).values("interaction_id")
    return list(Interaction.objects.filter(pk__in=ids).order_by("occurred_at", "id"))


def case_history(*, case: Case, limit: int = 50) -> list[CaseEvent]:
    """The latest ``limit`` changes of the case, newest first, with their actors."""
    return list(case.events.select_related("actor").order_by("-created_at", "-id")[:limit])


def team_agents(*, team_id: int | None) -> list[User]:
    """The active members of a team, by username: whom a case of the team may be assigned
    (with their routing profiles, when they have one)."""
    if team_id is None:
        return []
    return list(
        User.objects.filter(teams__id=team_id, is_active=True)
        .select_related("agent_profile")
        .order_by("username")
        .distinct()
    )


def customer_other_open_cases(
    *, cases: QuerySet[Case], customer_id: int, exclude_id: int, limit: int = 10
) -> list[Case]:
    """The customer's other open cases the viewer may see (for the 360 beside a case)."""
    return [
        c
        for c in open_cases_of_customer(cases=cases, customer_id=customer_id, limit=limit + 1)
        if c.pk != exclude_id
    ][:limit]
