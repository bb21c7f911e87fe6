"""When surveys go out by themselves (services of the feedback app):

- **after a case is resolved**: ``cases.signals.case_resolved`` enqueues
  ``tasks.invite_after_case`` to run ``delay_hours`` later (at once on a queue that cannot
  defer: the task then waits for the sweep); the periodic sweep catches what is due and was
  not sent (a worker that was down, a queue without deferral);
- **N days after a purchase**: the sweep invites customers whose order was placed
  ``delay_days`` ago (within the last two days of that, so an outage does not lose them);
- **relationship NPS**: the sweep invites, a batch at a time, customers with an email address
  whose last invitation to that survey is older than ``period_days`` (or who never had one).

Every route goes through ``invitations.invitation_create``, so the fatigue rule holds across
all of them; a refused invitation is simply not sent (the next due moment tries again for a
periodic survey). Everything here is idempotent: an invitation to the same survey for the
same case (or order, or period) is never made twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from khoshnud.cases.models import Case, CaseStatus
from khoshnud.commerce.models import Order
from khoshnud.customers.models import Customer, Identity, IdentityKind
from khoshnud.feedback.invitations import FatigueRefused, SurveyInactive, invitation_create
from khoshnud.feedback.models import Invitation, Survey, Trigger
from khoshnud.feedback.surveys import SurveyNotReady

logger = logging.getLogger(__name__)
CATCH_UP = dt.timedelta(days=2)  # how far back a sweep looks for what is due
PERIODIC_BATCH = 200  # relationship invitations per survey per sweep


@dataclass
class SweepCount:
    invited: int = 0
    refused: int = 0


def surveys_after_case(case: Case) -> list[Survey]:
    return [
        s
        for s in Survey.objects.filter(active=True, trigger=Trigger.CASE_RESOLVED)
        if not s.case_kinds or case.kind in s.case_kinds
    ]


def case_invitation_due(*, survey_id: int, case_id: int, now: dt.datetime | None = None) -> str:
    """Invite the customer of a resolved case to a survey if it is due; what happened:
    invited, refused (fatigue), not-due, done (already invited), not-resolved, not-ready."""
    now = now or timezone.now()
    case = Case.objects.filter(pk=case_id).first()
    survey = Survey.objects.filter(pk=survey_id).first()
    if case is None or survey is None or case.resolved_at is None:
        return "not-resolved"
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return "not-resolved"  # reopened meanwhile: its next resolution sends it
    if Invitation.objects.filter(survey_id=survey_id, case_id=case_id).exists():
        return "done"
    if case.resolved_at + dt.timedelta(hours=survey.delay_hours) > now:
        return "not-due"
    return _invite(survey, case.customer_id, case_id, Trigger.CASE_RESOLVED, now)


def _invite(
    survey: Survey,
    customer_id: int,
    case_id: int | None,
    reason: str,
    now: dt.datetime,
    order_id: int | None = None,
) -> str:
    try:
        invitation_create(
            survey_id=survey.pk, customer_id=customer_id, case_id=case_id, reason=reason,
            now=now, order_id=order_id,
        )  # fmt: skip
    except FatigueRefused:
        return "refused"
    except (SurveyNotReady, SurveyInactive) as exc:
        logger.warning("survey %s not sent: %s", survey.pk, exc)
        return "not-ready"
    return "invited"


def triggers_sweep(*, now: dt.datetime | None = None) -> SweepCount:
    """Send every automatic invitation that is due (the periodic job)."""
    now = now or timezone.now()
    count = SweepCount()

    def tally(outcome: str) -> None:
        count.invited += outcome == "invited"
        count.refused += outcome == "refused"

    for survey in Survey.objects.filter(active=True).exclude(trigger=Trigger.MANUAL):
        if survey.trigger == Trigger.CASE_RESOLVED:
            due_until = now - dt.timedelta(hours=survey.delay_hours)
            invited = Invitation.objects.filter(survey=survey, case_id=OuterRef("pk"))
            cases = (
                Case.objects.filter(
                    status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
                    resolved_at__gt=due_until - CATCH_UP,
                    resolved_at__lte=due_until,
                )
                .filter(~Exists(invited))
                .order_by("resolved_at")
            )
            if survey.case_kinds:
                cases = cases.filter(kind__in=survey.case_kinds)
            for case_id in cases.values_list("pk", flat=True)[:1000]:
                tally(case_invitation_due(survey_id=survey.pk, case_id=case_id, now=now))
        elif survey.trigger == Trigger.PURCHASE:
            due_until = now - dt.timedelta(days=survey.delay_days)
            later = Invitation.objects.filter(
                survey=survey,
                customer_id=OuterRef("customer_id"),
                created_at__gte=OuterRef("placed_at"),
            )
            orders = (
                Order.objects.filter(placed_at__gt=due_until - CATCH_UP, placed_at__lte=due_until)
                .filter(~Exists(later))
                .order_by("placed_at")
            )
            seen: set[int] = set()
            for customer_id, order_id in orders.values_list("customer_id", "pk")[:1000]:
                if customer_id not in seen:  # one invitation, about their earliest due order
                    seen.add(customer_id)
                    tally(_invite(survey, customer_id, None, Trigger.PURCHASE, now, order_id))
        elif survey.trigger == Trigger.PERIODIC:
            recent = Invitation.objects.filter(
                survey=survey,
                customer_id=OuterRef("pk"),
                created_at__gt=now - dt.timedelta(days=max(1, survey.period_days)),
            )
            reachable = Identity.objects.filter(customer_id=OuterRef("pk"), kind=IdentityKind.EMAIL)
            customers = (
                Customer.objects.filter(merged_into__isnull=True)
                .filter(Exists(reachable))
                .filter(~Exists(recent))
                .order_by("pk")
            )
            for customer_id in customers.values_list("pk", flat=True)[:PERIODIC_BATCH]:
                tally(_invite(survey, customer_id, None, Trigger.PERIODIC, now))
    return count


def case_resolved_followups(*, case_id: int) -> str:
    """What a resolution sets off (idempotent: a task may run twice): the verdict, the
    outcome of the care follow-up the case was, and each following survey queued to run
    after its delay (the sweep sends it if this queue cannot defer). A survey whose moment
    passed longer ago than the sweep looks back (``CATCH_UP``: a resolution recorded after
    the fact, an imported history) is not sent: the moment to ask has gone."""
    from khoshnud.feedback.recovery import recoveries_case_resolved
    from khoshnud.feedback.tasks import invite_after_case
    from khoshnud.feedback.verdicts import case_verdict_decide

    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.resolved_at is None:
        return "not resolved"
    case_verdict_decide(case_id=case.pk)
    recoveries_case_resolved(case_id=case.pk)
    now = timezone.now()
    surveys = [
        s
        for s in surveys_after_case(case)
        if case.resolved_at + dt.timedelta(hours=s.delay_hours) > now - CATCH_UP
    ]
    for survey in surveys:
        task = invite_after_case
        run_after = case.resolved_at + dt.timedelta(hours=survey.delay_hours)
        if run_after > now and task.get_backend().supports_defer:
            task = task.using(run_after=run_after)
        task.enqueue(survey.pk, case.pk)
    return f"judged; {len(surveys)} survey(s) queued"
