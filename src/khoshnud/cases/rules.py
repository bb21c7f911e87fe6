"""Rules a manager sets: time-based automations (the periodic task ``cases.automations``) and
hand-off rules (a care follow-up when a case is resolved, on ``case_resolved``).

- *Waiting on the customer for N business days → remind* (a reply by the case's channel,
  through the reply service), *then close after M more* business days.
- *Unassigned for N minutes → escalate*: the priority one step up and the team's leads told.
- *Care follow-up*: when support resolves a case of a customer of the chosen tiers (key
  customers), or any case that began as a complaint, a care case is opened for the care team,
  linked to the original (``follow_up_of``) and counted as a hand-off.

Every step is recorded in ``CaseRuleRun`` under a unique (rule, case, step, episode) key
before it acts, in the same transaction: a retried or concurrent run never does it twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from khoshnud import events
from khoshnud.accounts.services import audit_log
from khoshnud.cases.assignment import cases_route
from khoshnud.cases.models import (
    Case,
    CaseEvent,
    CaseInteraction,
    CaseKind,
    CaseRule,
    CaseRuleRun,
    CaseStatus,
    Priority,
    RuleKind,
    ThreadRole,
)
from khoshnud.cases.replies import CaseClosed, case_reply
from khoshnud.cases.selectors import teams_by_kind
from khoshnud.cases.services import _entitled, _new_case, _opened_event
from khoshnud.cases.sla import (
    RUNNING_STATUSES,
    Schedules,
    notifications_for_leads,
    notifications_write,
    raised_one_step,
    sla_resume,
)
from khoshnud.customers.models import Customer, Locale, Tier
from khoshnud.inputs import InputError, clean_int, clean_str
from khoshnud.language.models import MessageAnalysis
from khoshnud.servicelevels.business_time import working_day_close
from khoshnud.servicelevels.selectors import service_catalog

log = logging.getLogger(__name__)
Actor = AbstractBaseUser | AnonymousUser | None
MAX_DAYS = 365
MAX_MINUTES = 30 * 24 * 60
MAX_MESSAGE = 2000
BATCH = 500  # cases a rule acts on per run; the next run takes the rest


# --- Reads ------------------------------------------------------------------------------------


def case_rules() -> dict[str, CaseRule | None]:
    """Every rule kind → its stored rule (None: never set, so off)."""
    stored = {r.kind: r for r in CaseRule.objects.all()}
    return {kind: stored.get(kind) for kind in RuleKind.values}


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off"):
        return False
    if value in ("1", "true", "on"):
        return True
    raise InputError("enabled", f"{value!r} is not on or off")


# --- Writes -----------------------------------------------------------------------------------


@transaction.atomic
def case_rule_set(
    *,
    kind: object,
    enabled: object,
    after: object = None,
    then: object = None,
    message: object = "",
    messages: Mapping[str, object] | None = None,
    tiers: Iterable[object] = (),
    actor: Actor = None,
) -> CaseRule:
    """Create or replace the rule of ``kind`` (a manager's: the caller checks the role).

    ``after``: business days waiting (``waiting_remind_close``) or minutes unassigned
    (``unassigned_escalate``), a whole number ≥ 1; ``then``: business days more before closing
    (optional); ``message``: the reminder's text, ``messages``: the reminder per customer
    language (``fa``, ``zh-hans``, ``en``; the customer's language wins, else ``message``) —
    optional, but a waiting rule needs a reminder or a close: a rule that does nothing is
    refused; ``tiers``: the customer tiers a
    ``follow_up_tier`` rule applies to (at least one). Validated whole before anything is
    written (``InputError`` naming the field); audited.
    """
    if kind not in RuleKind.values:
        raise InputError("kind", f"{kind!r} is not one of {', '.join(RuleKind.values)}")
    values: dict[str, Any] = {
        "enabled": _flag(enabled),
        "after": None,
        "then": None,
        "message": "",
        "messages": {},
        "tiers": [],
    }
    if kind == RuleKind.WAITING_REMIND_CLOSE:
        values["after"] = clean_int(after, field="after", maximum=MAX_DAYS)
        values["message"] = clean_str(
            message, field="message", max_length=MAX_MESSAGE, required=False
        ).strip()
        values["messages"] = _clean_messages(messages or {})
        if then not in (None, ""):
            values["then"] = clean_int(then, field="then", maximum=MAX_DAYS)
        if not values["message"] and not values["messages"] and values["then"] is None:
            raise InputError(
                "message",
                "the rule does nothing: give the reminder's text, the days before closing, or both",
            )
    elif kind == RuleKind.UNASSIGNED_ESCALATE:
        values["after"] = clean_int(after, field="after", maximum=MAX_MINUTES)
    elif kind == RuleKind.FOLLOW_UP_TIER:
        chosen = [str(t) for t in tiers]
        unknown = [t for t in chosen if t not in Tier.values]
        if unknown:
            raise InputError("tiers", f"{unknown[0]!r} is not one of {', '.join(Tier.values)}")
        if not chosen:
            raise InputError("tiers", "choose at least one customer tier: the rule would never act")
        values["tiers"] = sorted(set(chosen), key=Tier.values.index)
    rule, created = CaseRule.objects.update_or_create(kind=kind, defaults=values)
    audit_log(
        actor=actor,
        action="cases.rule_set",
        object_type="case_rule",
        object_id=rule.pk,
        data={"kind": kind, "created": created, **values},
    )
    return rule


def _clean_messages(messages: Mapping[str, object]) -> dict[str, str]:
    """Locale code → reminder text; blank texts are dropped, an unknown language refused."""
    if not isinstance(messages, Mapping):
        raise InputError("messages", "must be an object of language → text")
    out = {}
    for locale, text in messages.items():
        if locale not in Locale.values:
            raise InputError(
                "messages", f"{locale!r} is not a language ({', '.join(Locale.values)})"
            )
        clean = clean_str(
            text, field=f"messages.{locale}", max_length=MAX_MESSAGE, required=False
        ).strip()
        if clean:
            out[str(locale)] = clean
    return out


def reminder_text(rule: CaseRule, locale: str) -> str:
    """The reminder in the customer's language, else the rule's general text ("" for none)."""
    return str((rule.messages or {}).get(locale) or rule.message or "")


# --- The periodic run -------------------------------------------------------------------------


@dataclass
class RulesRun:
    reminded: int = 0
    closed: int = 0
    escalated: int = 0


def _claim(rule: CaseRule, case: Case, step: str, episode: dt.datetime) -> bool:
    """Record that ``step`` is done for ``case`` in this episode; False if it already was.
    Call inside the transaction that acts."""
    _run, created = CaseRuleRun.objects.get_or_create(
        rule=rule, case=case, step=step, episode=episode
    )
    return created


def _due(schedules: Schedules, case: Case, since: dt.datetime, days: int) -> dt.datetime:
    schedule = schedules.of_case(case)
    if schedule is None:  # no catalog entry: calendar days
        return since + dt.timedelta(days=days)
    return working_day_close(schedule, since, days)


def case_rules_run(*, now: dt.datetime | None = None) -> RulesRun:
    """Run the enabled time-based rules once (the periodic task ``cases.automations``):
    remind and close cases waiting on the customer, escalate unassigned ones. Idempotent."""
    now = now or timezone.now()
    rules = {r.kind: r for r in CaseRule.objects.filter(enabled=True)}
    out = RulesRun()
    schedules = Schedules()
    waiting = rules.get(RuleKind.WAITING_REMIND_CLOSE)
    if waiting is not None and waiting.after:
        _run_waiting(waiting, now, schedules, out)
    unassigned = rules.get(RuleKind.UNASSIGNED_ESCALATE)
    if unassigned is not None and unassigned.after:
        _run_unassigned(unassigned, now, schedules, out)
    return out


def _run_waiting(rule: CaseRule, now: dt.datetime, schedules: Schedules, out: RulesRun) -> None:
    days = int(rule.after or 0)
    # N working days end at least N - 1 calendar days after the pause: a cheap first filter on
    # the (partial) waiting index.
    candidates = list(
        Case.objects.filter(
            status=CaseStatus.WAITING,
            paused_at__isnull=False,
            paused_at__lte=now - dt.timedelta(days=days - 1),
        ).order_by("paused_at", "pk")[:BATCH]
    )
    schedules.for_levels({c.service_level_id for c in candidates if c.service_level_id})
    for case in candidates:
        since = case.paused_at
        assert since is not None
        if (rule.message or rule.messages) and now >= _due(schedules, case, since, days):
            out.reminded += _remind(rule, case, since)
        if rule.then and now >= _due(schedules, case, since, days + int(rule.then)):
            out.closed += _close(rule, case, since, now, schedules)


def _remind(rule: CaseRule, case: Case, since: dt.datetime) -> int:
    with transaction.atomic():
        if not _claim(rule, case, "remind", since):
            return 0
        changes: dict[str, Any] = {"rule": rule.kind}
        reason = ""
        locale = Customer.objects.filter(pk=case.customer_id).values_list("locale", flat=True)
        text = reminder_text(rule, locale.first() or "")
        try:
            if not text:  # only other languages' texts were given
                raise InputError("messages", "no reminder in the customer's language")
            reply = case_reply(case=case, text=text, actor=None)
            changes["interaction"] = reply.interaction_id
        except (InputError, CaseClosed) as exc:  # no address to write to: say so, once
            changes["sent"] = False
            reason = f"not sent: {exc}"[:200]
        CaseEvent.objects.create(
            case=case, action=events.CASE_REMINDED, changes=changes, reason=reason
        )
    return 1


def _close(
    rule: CaseRule, case: Case, since: dt.datetime, now: dt.datetime, schedules: Schedules
) -> int:
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status != CaseStatus.WAITING or locked.paused_at != since:
            return 0  # the customer answered meanwhile
        if not _claim(rule, locked, "close", since):
            return 0
        moved, changes = sla_resume(locked, at=now, schedules=schedules)
        locked.status = CaseStatus.CLOSED
        locked.save(update_fields=["status", *moved, "updated_at"])
        CaseEvent.objects.create(
            case=locked,
            action=events.CASE_STATUS_CHANGED,
            changes={
                "status": {"from": CaseStatus.WAITING, "to": CaseStatus.CLOSED},
                "rule": rule.kind,
                **changes,
            },
            reason="no answer from the customer",
        )
    return 1


def _run_unassigned(rule: CaseRule, now: dt.datetime, schedules: Schedules, out: RulesRun) -> None:
    minutes = int(rule.after or 0)
    done = CaseRuleRun.objects.filter(rule=rule, step="escalate", case_id=OuterRef("pk"))
    candidates = list(
        Case.objects.filter(
            status__in=RUNNING_STATUSES,
            assignee__isnull=True,
            opened_at__lte=now - dt.timedelta(minutes=minutes),
        )
        .filter(~Exists(done))
        .order_by("opened_at", "pk")[:BATCH]
    )
    for case in candidates:
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            if locked.assignee_id is not None or locked.status not in RUNNING_STATUSES:
                continue
            if not _claim(rule, locked, "escalate", locked.opened_at):
                continue
            before, locked.priority = locked.priority, raised_one_step(locked.priority)
            locked.save(update_fields=["priority", "updated_at"])
            changes: dict[str, Any] = {"rule": rule.kind, "minutes": minutes}
            if before != locked.priority:
                changes["priority"] = {"from": before, "to": locked.priority}
            CaseEvent.objects.create(case=locked, action=events.CASE_ESCALATED, changes=changes)
            notes = notifications_for_leads(
                cases=[locked],
                action=events.CASE_ESCALATED,
                # No copy of the subject: it may quote the customer, and an erasure blanks
                # it on the case only (the page shows the case's own).
                data={locked.pk: {"minutes": minutes, "priority": locked.priority}},
                now=now,
                schedules=schedules,
            )  # fmt: skip
            notifications_write(notes, now=now)
            out.escalated += 1


# --- Hand-off rules: the care follow-up -------------------------------------------------------


def began_as_complaint(case: Case) -> bool:
    """The case was opened as a care case (complaints go to care) and its opening message, if
    any, was not positive (a compliment opens a care case too, and needs no follow-up)."""
    opened = case.events.filter(action=events.CASE_OPENED).order_by("pk").first()
    kind = (opened.changes or {}).get("kind") if opened else case.kind
    if kind != CaseKind.CARE:
        return False
    opening = CaseInteraction.objects.filter(case=case, role=ThreadRole.OPENING).first()
    if opening is None:
        return True
    sentiment = (
        MessageAnalysis.objects.filter(interaction_id=opening.interaction_id)
        .values_list("sentiment", flat=True)
        .first()
    )
    return sentiment != "positive"


def case_follow_up_open(*, case_id: int) -> Case | None:
    """Open the care follow-up of a resolved case when an enabled hand-off rule asks for it:
    support resolved a case of a customer of the rule's tiers, or the case began as a
    complaint. At most one follow-up per case (a case resolved, reopened and resolved again
    gets one); a follow-up gets none of its own. The new case is a care case for the care
    team, opened now, linked by ``follow_up_of``, routed; the original's history records
    ``case.follow_up`` (counted as a hand-off). → the new case, or None."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.RESOLVED or case.follow_up_of_id is not None:
        return None
    rules = {r.kind: r for r in CaseRule.objects.filter(enabled=True)}
    tier = Customer.objects.filter(pk=case.customer_id).values_list("tier", flat=True).first()
    rule: CaseRule | None = None
    complaint = rules.get(RuleKind.FOLLOW_UP_COMPLAINT)
    by_tier = rules.get(RuleKind.FOLLOW_UP_TIER)
    if complaint is not None and began_as_complaint(case):
        rule = complaint
    elif by_tier is not None and case.kind == CaseKind.SUPPORT and tier in (by_tier.tiers or []):
        rule = by_tier
    if rule is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if Case.objects.filter(follow_up_of=locked).exists():
            return None
        if not _claim(rule, locked, "follow_up", locked.opened_at):
            return None
        new = _new_case(
            customer_id=locked.customer_id,
            tier=tier or "standard",
            kind=CaseKind.CARE,
            channel=locked.channel,
            subject=locked.subject,
            opened_at=now,
            priority=Priority.NORMAL,
            catalog=service_catalog(),
            teams=teams_by_kind(),
            entitled=_entitled(locked.customer_id, now),
        )
        new.follow_up_of = locked
        # About the same product as the original (when it was set or inferred already).
        new.product_id, new.product_source = locked.product_id, locked.product_source
        new.save()
        _opened_event(new, None, f"follow-up of case {locked.pk}").save()
        CaseEvent.objects.create(
            case=locked,
            action=events.CASE_FOLLOW_UP,
            changes={"follow_up": new.pk, "rule": rule.kind,
                     "kind": {"from": locked.kind, "to": CaseKind.CARE.value}},
        )  # fmt: skip
        cases_route(cases=[new])
    return new


def follow_up_on_resolved(sender: object, *, case_id: int, **_: object) -> None:
    """``case_resolved`` receiver: queue the follow-up check (the request that resolved the
    case does not wait for it, and a failure is retried by the queue)."""
    from khoshnud.cases.tasks import open_follow_up

    follow_up_rules = (RuleKind.FOLLOW_UP_TIER, RuleKind.FOLLOW_UP_COMPLAINT)
    if CaseRule.objects.filter(kind__in=follow_up_rules, enabled=True).exists():
        open_follow_up.enqueue(int(case_id))
