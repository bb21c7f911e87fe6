"""The demo's history, worked as a team would have worked it (issue 10).

``build_demo`` stores six months of messages; on a live system the worker's pipeline would
turn them into cases, and agents would answer and resolve them. Here that happens at once, as
if the history were brought in from another tool:

- the pipeline runs on the demo's interactions in this process (classification first — the
  fast path, as for any bulk history — then the case step);
- cases older than ``RECENT`` are worked through the desk's services with an explicit moment
  (``at=``): taken by an agent of their team, answered (a reply recorded as delivered history:
  an outbound event naming its case, which the pipeline attaches and which stamps the first
  response), mostly resolved, some closed, reopened, handed off from service to support or
  left waiting on the customer; the times are drawn around the catalog's targets, so some are
  met and some missed. Cases opened in the last days stay as the pipeline left them: the inbox
  still has work;
- resolved cases are judged (their verdict), some get a CSAT answer about them (the events
  API's ``survey.case_id``: it rates the agent who resolved the case), a few unhappy answers
  open a care follow-up at the time they came in, and the customer's next answer tells whether
  they were won back;
- the insights rollups are rebuilt, so the managers' dashboard shows all of it at once.

Deterministic: its own seeded ``random.Random``. Nothing is sent: replies are history, and a
resolution older than the surveys' catch-up invites nobody (feedback.triggers).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from khoshnud.accounts.models import AgentProfile, Role
from khoshnud.accounts.selectors import user_has_role
from khoshnud.cases.history import HistoryStep, case_history_record
from khoshnud.cases.models import OPEN_STATUSES, Case, CaseKind, CaseStatus
from khoshnud.cases.routing import assignment_refusal
from khoshnud.customers.models import Customer
from khoshnud.feedback.models import SurveyResponse
from khoshnud.feedback.recovery import recoveries_after_answers, recoveries_case_resolved, unhappy
from khoshnud.feedback.verdicts import verdicts_decide
from khoshnud.insights.rollups import rollups_rebuild
from khoshnud.interactions.models import Channel, Interaction
from khoshnud.interactions.pipeline import pipeline_run
from khoshnud.interactions.services import events_ingest
from khoshnud.language.services import interactions_classify
from khoshnud.ops.demo_content import REPLIES, SURVEY_COMMENTS

# Cases opened within this much of the build stay as the pipeline left them (the inbox's work).
RECENT = dt.timedelta(days=3)
# Nothing is dated closer to the build than this (a history, not what is happening now).
MARGIN = dt.timedelta(minutes=30)
MINUTE = dt.timedelta(minutes=1)


@dataclass
class Desk:
    """Who works the demo's cases: each team's agents (with their routing profiles), and the
    manager who takes what no agent of the team may (a language nobody there speaks)."""

    agents: dict[int, list[User]]  # team id → agents, by username
    profiles: dict[int, AgentProfile]
    manager: User | None
    by_id: dict[int, User] = field(default_factory=dict)

    def agent_for(self, case: Case, language: str) -> User | None:
        if case.assignee_id is not None and case.assignee_id in self.by_id:
            return self.by_id[case.assignee_id]
        for user in self.agents.get(case.team_id or 0, []):
            refusal = assignment_refusal(
                profile=self.profiles.get(user.pk),
                username=user.get_username(),
                kind=case.kind,
                language=language,
            )
            if refusal is None:
                return user
        return None


def _desk() -> Desk | None:
    users = list(User.objects.filter(is_active=True).prefetch_related("teams").order_by("username"))
    agents: dict[int, list[User]] = {}
    manager = None
    for user in users:
        if user_has_role(user, Role.MANAGER):
            if manager is None and not user.is_superuser:
                manager = user
            continue
        if user_has_role(user, Role.AGENT):
            for team in user.teams.all():  # type: ignore[attr-defined]
                agents.setdefault(team.pk, []).append(user)
    manager = manager or next((u for u in users if u.is_superuser), None)
    if manager is None or not agents:
        return None
    profiles = {p.user_id: p for p in AgentProfile.objects.filter(user__in=users)}
    return Desk(agents, profiles, manager, {u.pk: u for u in users})


@dataclass
class Plan:
    """What happens to one case, drawn before anything is written."""

    case: Case
    actor: User
    language: str
    outcome: str  # "resolved", "waiting", "closed" (without a resolution), "left"
    handoff: bool = False
    reopen: bool = False
    close_after: bool = False
    reply_at: dt.datetime | None = None
    handed_at: dt.datetime | None = None  # when service handed it to support

    @property
    def since(self) -> dt.datetime:
        """When its (last) team got it: its replies and work come after."""
        return self.handed_at or self.case.opened_at


def demo_history(
    *,
    source: str,
    seed: int,
    now: dt.datetime,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, int]:
    """Run the pipeline on the demo's interactions, work its older cases, judge them, bring in
    answers about them and rebuild the rollups (see the module's docstring). Not idempotent:
    ``build_demo`` calls it once, when it creates the demo."""
    counts: dict[str, int] = {}
    ids = list(
        Interaction.objects.filter(source=source).order_by("id").values_list("id", flat=True)
    )
    # The fast path, as for any bulk history; the worker re-analyses its rows when quiet.
    interactions_classify(interaction_ids=ids, fast=True)
    pipeline_run(interaction_ids=ids)
    counts["cases"] = Case.objects.count()
    progress(f"{counts['cases']} cases from the messages")
    desk = _desk()
    if desk is None:  # no staff to work them (a demo built without its agents)
        counts["rollup_rows"] = rollups_rebuild()["rows"]
        return counts
    rng = random.Random(seed)
    now = now - MARGIN
    cases = list(
        Case.objects.filter(opened_at__lt=now - RECENT, status__in=OPEN_STATUSES).order_by(
            "opened_at", "id"
        )
    )
    plans = _plans(rng, desk, cases)
    progress("plans drawn")
    counts["handed_off"] = _hand_off(rng, desk, [p for p in plans if p.handoff], now)
    progress(f"{counts['handed_off']} handed off")
    counts["replies"] = _replies(rng, source, plans, now)
    progress(f"{counts['replies']} replies")
    worked = _work(rng, desk, plans, now)
    counts.update(worked)
    progress(
        f"{worked['resolved']} cases resolved, {worked['closed']} closed, {worked['reopened']} "
        f"reopened, {counts['handed_off']} handed off, {worked['waiting']} waiting"
    )
    answered = _answers_about_cases(rng, source, plans, now)
    counts["case_answers"] = len(answered)
    recovered = _recoveries(rng, source, desk, answered, now)
    counts.update(recovered.counts)
    # Judged once, after every answer about them: dated when they would have been decided.
    counts["verdicts"] = _judge(
        [p.case.pk for p in plans if p.outcome == "resolved"] + recovered.resolved
    )
    progress(
        f"{counts['verdicts']} verdicts, {counts['case_answers']} answers about cases, "
        f"{counts['follow_ups']} care follow-ups ({counts['won_back']} won back)"
    )
    counts["rollup_rows"] = rollups_rebuild()["rows"]
    return counts


def _plans(rng: random.Random, desk: Desk, cases: Sequence[Case]) -> list[Plan]:
    languages = dict(
        Customer.objects.filter(pk__in={c.customer_id for c in cases}).values_list("pk", "locale")
    )
    plans = []
    for case in cases:
        language = languages.get(case.customer_id, "en")
        agent = desk.agent_for(case, language)
        actor = agent or desk.manager
        assert actor is not None
        roll = rng.random()
        outcome = (
            "left" if roll < 0.04 else "waiting" if roll < 0.09 else "closed" if roll < 0.13
            else "resolved"
        )  # fmt: skip
        plans.append(
            Plan(
                case=case,
                actor=actor,
                language=language,
                outcome=outcome,
                handoff=case.kind == CaseKind.SERVICE and outcome != "left" and rng.random() < 0.04,
                reopen=outcome == "resolved" and rng.random() < 0.07,
                close_after=outcome == "resolved" and rng.random() < 0.35,
            )
        )
    return plans


def _hand_off(rng: random.Random, desk: Desk, plans: Sequence[Plan], now: dt.datetime) -> int:
    """Service hands these to support (a product fault, not a question) soon after they
    opened, recorded in bulk (``case_history_record``: ``case_kind_change``'s rules); the
    case's new team answers it from then on."""
    steps = []
    for plan in plans:
        at = plan.case.opened_at + rng.randrange(10, 180) * MINUTE
        if at > now:
            continue
        plan.handed_at = at
        steps.append(
            HistoryStep(
                plan.case.pk, at, plan.actor, kind=CaseKind.SUPPORT,
                reason="a product fault: support's",
            )
        )  # fmt: skip
    done = case_history_record(steps=steps).handed_off
    fresh = Case.objects.in_bulk([p.case.pk for p in plans if p.handed_at is not None])
    for plan in plans:
        if plan.case.pk in fresh:
            plan.case = fresh[plan.case.pk]
            # Support's agent from now on (its manager when none speaks the language).
            plan.actor = desk.agent_for(plan.case, plan.language) or desk.manager or plan.actor
    return done


def _around(
    rng: random.Random, start: dt.datetime, due: dt.datetime | None, met: float
) -> dt.datetime:
    """A moment after ``start``: before ``due`` with probability ``met``, after it otherwise;
    10 minutes to 10 hours after ``start`` when there is no target."""
    if due is None or due <= start + MINUTE:
        if due is not None and rng.random() >= met:
            return max(start, due) + rng.randrange(15, 36 * 60) * MINUTE
        return start + rng.randrange(10, 600) * MINUTE
    if rng.random() < met:
        span = (due - start) / MINUTE
        return start + max(1, int(span * rng.uniform(0.05, 0.95))) * MINUTE
    return due + rng.randrange(15, 36 * 60) * MINUTE


def _replies(rng: random.Random, source: str, plans: Sequence[Plan], now: dt.datetime) -> int:
    """The first reply of each unanswered case to be worked, recorded as delivered history: an
    outbound event naming its case, attached (and stamped as the first response) by the
    pipeline. Nothing is sent."""
    events = []
    for plan in plans:
        case = plan.case
        if plan.outcome == "left" or case.first_responded_at is not None:
            continue
        at = _around(rng, plan.since, case.first_response_due, met=0.75)
        if at > now:
            continue
        plan.reply_at = at
        events.append(
            {
                "source": source,
                "external_id": f"case{case.pk}-reply",
                "channel": case.channel,
                "direction": "outbound",
                "type": "call" if case.channel == Channel.PHONE else "message",
                "occurred_at": at.isoformat(),
                "text": rng.choice(REPLIES[plan.language[:2]]),
                "metadata": {"case_id": case.pk},
                "customer": {"id": case.customer_id},
                "staff": plan.actor.get_username(),
            }
        )
    return len(_ingest(events))


def _ingest(events: Sequence[dict[str, Any]]) -> list[int]:
    """Store the events and run the pipeline on them now, classified by the fast path like
    the rest of the history (the worker's later run finds them done: every step is
    idempotent); → the new interactions' ids."""
    ids: list[int] = []
    for i in range(0, len(events), 1000):
        results = events_ingest(events=list(events[i : i + 1000]))
        ids += [r.id for r in results if r.status == "created" and r.id is not None]
    interactions_classify(interaction_ids=ids, fast=True)
    pipeline_run(interaction_ids=ids)
    return ids


def _work(
    rng: random.Random, desk: Desk, plans: Sequence[Plan], now: dt.datetime
) -> dict[str, int]:
    """Take, resolve, close, reopen and leave waiting, each at its own moment, recorded in
    bulk through ``case_history_record`` (the rules of the desk's services)."""
    counts = dict.fromkeys(("resolved", "closed", "reopened", "waiting"), 0)
    fresh = {
        c.pk: c
        for c in Case.objects.filter(pk__in=[p.case.pk for p in plans if p.outcome != "left"])
    }
    steps: list[HistoryStep] = []
    for plan in plans:
        if plan.case.pk in fresh:
            plan.case = fresh[plan.case.pk]
            for key, n in _work_one(rng, plan, now, steps).items():
                counts[key] += n
    case_history_record(steps=steps)
    return counts


def _work_one(
    rng: random.Random, plan: Plan, now: dt.datetime, steps: list[HistoryStep]
) -> dict[str, int]:
    case, actor = plan.case, plan.actor
    done: dict[str, int] = {}
    replied = case.first_responded_at
    start = plan.since + rng.randrange(2, 30) * MINUTE
    if case.assignee_id is None and not user_has_role(actor, Role.MANAGER):
        # The agent takes it when they first look at it (at the latest, when they answer).
        taken = min(start, replied or start)
        if taken <= now:
            steps.append(HistoryStep(case.pk, taken, actor, assignee=actor, reason="taken"))
    start = max(start, replied or start)

    def status(to: str, at: dt.datetime, reason: str = "") -> bool:
        if at > now:
            return False
        steps.append(HistoryStep(case.pk, at, actor, status=to, reason=reason))
        return True

    if plan.outcome == "waiting":
        if status(CaseStatus.WAITING, start + rng.randrange(5, 90) * MINUTE, "asked for details"):
            done["waiting"] = 1
        return done
    if plan.outcome == "closed":
        reason = rng.choice(["duplicate", "spam", "no action needed"])
        if status(CaseStatus.CLOSED, start + rng.randrange(10, 24 * 60) * MINUTE, reason):
            done["closed"] = 1
        return done
    resolved = max(_around(rng, case.opened_at, case.resolution_due, met=0.72), start + MINUTE)
    if not status(CaseStatus.RESOLVED, resolved):
        return done
    if plan.reopen:
        back = resolved + rng.randrange(60, 72 * 60) * MINUTE
        if status(CaseStatus.OPEN, back, "the customer wrote back: not fixed"):
            done["reopened"] = 1
            resolved = back + rng.randrange(30, 24 * 60) * MINUTE
            if not status(CaseStatus.RESOLVED, resolved):
                return done
    done["resolved"] = 1
    if plan.close_after and status(
        CaseStatus.CLOSED, resolved + rng.randrange(2 * 24 * 60, 7 * 24 * 60) * MINUTE
    ):
        done["closed"] = 1
    return done


def _judge(case_ids: Iterable[int]) -> int:
    """The verdict of each resolved case, dated when it would have been decided (its
    resolution or the last answer about it): the rule of the worker's ``after_case_resolved``
    task, which a past resolution does not queue (``case_history_record``)."""
    return verdicts_decide(case_ids=case_ids, historical=True)


def _answers_about_cases(
    rng: random.Random, source: str, plans: Sequence[Plan], now: dt.datetime
) -> list[SurveyResponse]:
    """About a quarter of the resolved cases get a CSAT answer a few hours to three days later
    (the "After a case" survey, brought in through the events API with its case): lower when
    the case missed a target. Each rates the agent who resolved the case."""
    resolved = Case.objects.filter(
        pk__in=[p.case.pk for p in plans if p.outcome == "resolved"], resolved_at__isnull=False
    ).order_by("resolved_at", "id")
    language = {p.case.pk: p.language[:2] for p in plans}
    events = []
    for case in resolved:
        if rng.random() >= 0.25 or case.resolved_at is None:
            continue
        at = case.resolved_at + rng.randrange(120, 3 * 24 * 60) * MINUTE
        if at > now:
            continue
        late = (
            case.first_response_due is not None
            and (case.first_responded_at or case.resolved_at) > case.first_response_due
        ) or (case.resolution_due is not None and case.resolved_at > case.resolution_due)
        weights = [25, 25, 25, 15, 10] if late else [2, 3, 10, 35, 50]
        score = rng.choices(range(1, 6), weights=weights)[0]
        events.append(
            _answer(source, case, f"case{case.pk}-csat", at, "csat", score, rng, language)
        )
    ids = _ingest(events)
    return list(SurveyResponse.objects.filter(interaction_id__in=ids).order_by("answered_at", "id"))


def _answer(
    source: str,
    case: Case,
    uid: str,
    at: dt.datetime,
    kind: str,
    score: int,
    rng: random.Random,
    language: dict[int, str],
) -> dict[str, Any]:
    mood = "bad" if unhappy(kind, score) else "good"
    comment = rng.choice(SURVEY_COMMENTS[language.get(case.pk, "en")][mood])
    return {
        "source": source,
        "external_id": uid,
        "channel": "email",
        "direction": "inbound",
        "type": "survey_answer",
        "stage": "service",
        "occurred_at": at.isoformat(),
        "text": "",
        "metadata": {},
        "customer": {"id": case.customer_id},
        "survey": {"kind": kind, "score": score, "comment": comment, "case_id": case.pk},
    }


@dataclass
class Recovered:
    counts: dict[str, int]
    resolved: list[int]  # the follow-up cases resolved (the caller judges them)


def _recoveries(
    rng: random.Random,
    source: str,
    desk: Desk,
    answers: Sequence[SurveyResponse],
    now: dt.datetime,
) -> Recovered:
    """One unhappy answer in seven older than a month opens a care follow-up when they came in
    (an import opens none: the moment has passed, so the demo opens them at their moment);
    care answers and resolves it within two days, and two customers in three answer again
    a week or two later, most of them happier."""
    counts = {"follow_ups": 0, "won_back": 0}
    low = [
        a for a in answers if unhappy(a.kind, a.score) and a.answered_at < now - dt.timedelta(30)
    ]
    followed: list[tuple[SurveyResponse, Case]] = []
    with transaction.atomic():
        for answer in low:
            if rng.random() >= 0.15:
                continue
            at = answer.answered_at + rng.randrange(20, 8 * 60) * MINUTE
            for recovery in recoveries_after_answers(responses=[answer], now=at):
                if recovery.case is not None:
                    followed.append((answer, recovery.case))
    counts["follow_ups"] = len(followed)
    languages = dict(
        Customer.objects.filter(pk__in={c.customer_id for _a, c in followed}).values_list(
            "pk", "locale"
        )
    )
    plans = []
    for _answer_row, case in followed:
        language = languages.get(case.customer_id, "en")
        actor = desk.agent_for(case, language) or desk.manager
        assert actor is not None
        plans.append(Plan(case=case, actor=actor, language=language, outcome="resolved"))
    _replies(rng, source, plans, now)
    _work(rng, desk, plans, now)
    resolved_at = dict(
        Case.objects.filter(
            pk__in=[p.case.pk for p in plans], resolved_at__isnull=False
        ).values_list("pk", "resolved_at")
    )
    resolved = sorted(resolved_at)
    for case_id in resolved:
        recoveries_case_resolved(case_id=case_id, at=resolved_at[case_id])
    events = []
    spoken = {p.case.pk: p.language[:2] for p in plans}
    for answer, case in followed:
        if rng.random() >= 2 / 3:
            continue
        at = answer.answered_at + rng.randrange(7 * 24 * 60, 15 * 24 * 60) * MINUTE
        if at > now - dt.timedelta(days=8):  # an unhappy one would open a follow-up today
            continue
        score = rng.choices(range(1, 6), weights=[5, 10, 15, 35, 35])[0]
        events.append(_answer(source, case, f"case{case.pk}-again", at, "csat", score, rng, spoken))
        counts["won_back"] += not unhappy("csat", score)
    _ingest(events)
    return Recovered(counts, resolved)
