"""Reads of cases: the team serving a kind, a customer's cases, a case's thread."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet

from khoshnud.accounts.models import Team
from khoshnud.cases.models import INBOUND_TYPES, OPEN_STATUSES, Case, CaseInteraction
from khoshnud.channels.email_outbound import SOURCE as EMAIL_SOURCE
from khoshnud.channels.email_outbound import email_key
from khoshnud.interactions.models import Direction, Interaction


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
