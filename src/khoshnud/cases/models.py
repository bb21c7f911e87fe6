"""Cases: a customer's need being worked on, its thread of interactions and its history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from khoshnud.accounts.models import Team
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Channel, Interaction, InteractionType
from khoshnud.servicelevels.models import ServiceKind, ServiceLevel

CaseKind = ServiceKind  # one vocabulary: the catalog prices the kinds cases carry


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# A message attaches to a case in one of these; a resolved or closed case is done.
OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


class ProductSource(models.TextChoices):
    """How a case's product was found (docs/metrics.md, "Product"); NULL: not looked at yet."""

    SET = "set", _("Set by a person or the API")
    ORDER = "order", _("The customer's latest earlier order")
    NONE = "none", _("No earlier order")


class Case(models.Model):
    # No single-column indexes on customer, team and assignee: the composite indexes below lead
    # with them, and each index costs every case the pipeline opens (bench/ingest.py).
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=8, choices=CaseKind)
    status = models.CharField(_("status"), max_length=8, choices=CaseStatus, default=CaseStatus.NEW)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority, default=Priority.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
    )
    tags = models.JSONField(default=list, blank=True)
    # When the opening message occurred (not when the row was written): SLA clocks count from it.
    opened_at = models.DateTimeField(_("opened at"))
    # The latest inbound message of the thread: the attach window is measured from it.
    last_message_at = models.DateTimeField()
    service_level = models.ForeignKey(
        ServiceLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    # The business calendar's zone when the case opened; its times are shown in it.
    time_zone = models.CharField(max_length=64)
    first_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The SLA clock is stopped while the case waits on the customer (cases/sla.py): since when.
    paused_at = models.DateTimeField(null=True, blank=True)
    # When the breach scan found each target missed (set once; CaseBreach holds the record).
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # A care follow-up opened by a hand-off rule when the original was resolved.
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    # The product the case is about: set by a person or the API, else inferred afterwards,
    # set-based, by the rollup refresh (cases/products.py), never by the pipeline step. No
    # index: nothing looks cases up by product, and each index costs every case opened.
    product = models.ForeignKey(
        "commerce.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,
        verbose_name=_("product"),
    )
    # NULL until the product was looked at (the pipeline's rows are written without it).
    product_source = models.CharField(max_length=8, null=True, blank=True, choices=ProductSource)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # The breach scan (cases/sla.py) reads only these two small partial indexes: running
            # cases (a waiting one is paused) not yet found breached, by due time.
            models.Index(
                fields=["first_response_due"],
                name="case_first_response_watch",
                condition=models.Q(
                    status__in=["new", "open"],
                    first_responded_at__isnull=True,
                    first_response_breached_at__isnull=True,
                    first_response_due__isnull=False,
                ),
            ),
            models.Index(
                fields=["resolution_due"],
                name="case_resolution_watch",
                condition=models.Q(
                    status__in=["new", "open"],
                    resolution_breached_at__isnull=True,
                    resolution_due__isnull=False,
                ),
            ),
            # The waiting-on-customer automations: waiting cases by when they began waiting.
            models.Index(
                fields=["paused_at"],
                name="case_waiting_since",
                condition=models.Q(status="waiting"),
            ),
            models.Index(fields=["customer", "channel", "status"], name="case_customer_open"),
            models.Index(fields=["team", "status", "resolution_due"], name="case_team_queue"),
            # The pipeline's look-up: a customer's open cases with a recent last message.
            models.Index(
                fields=["customer", "last_message_at"],
                name="case_open_recent",
                condition=models.Q(status__in=["new", "open", "waiting"]),
            ),
            # Routing counts each agent's open cases from this index alone (cases/routing.py).
            models.Index(fields=["assignee", "status"], name="case_agent_load"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.status}"


class ThreadRole(models.TextChoices):
    OPENING = "opening", _("Opening message")
    INBOUND = "inbound", _("Customer message")
    REPLY = "reply", _("Reply")
    NOTE = "note", _("Internal note")


class CaseInteraction(models.Model):
    """An interaction in a case's thread. An interaction belongs to one case at most: this is
    what makes attaching idempotent. The log itself knows nothing of cases."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    interaction = models.OneToOneField(
        Interaction, on_delete=models.DO_NOTHING, db_constraint=False, related_name="case_link"
    )
    role = models.CharField(max_length=8, choices=ThreadRole)
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "interaction_id"]  # plain columns: no joins

    def __str__(self) -> str:
        return f"case {self.case_id} ← interaction {self.interaction_id}"


class CaseEvent(models.Model):
    """One change of a case: who (None for the pipeline), what (from → to), when and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=200, blank=True, default="")
    # When the change happened: now, or the moment a service was given (``at=``, a history
    # recorded after the fact), so the case's history reads in the order things happened.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.action}"


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class CaseBreach(models.Model):
    """A service-level target the case missed, found by the breach scan; one per target."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="breaches")
    target = models.CharField(max_length=16, choices=Target)
    due = models.DateTimeField()
    detected_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "due", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "target"], name="case_breach_once"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.target} due {self.due.isoformat()}"


class Notification(models.Model):
    """An in-app message to a staff member (the breach of a case of their team…).

    ``visible_from`` holds it back until the team's calendar opens: a lead is told inside
    working hours, not at 3 a.m.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # What happened (a code) and its values; the page words it in the reader's language.
    action = models.CharField(max_length=32)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    visible_from = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-visible_from", "-id"]
        indexes = [
            models.Index(
                fields=["user", "visible_from"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.action}"


class RuleKind(models.TextChoices):
    WAITING_REMIND_CLOSE = "waiting_remind_close", _("Waiting on the customer: remind, then close")
    UNASSIGNED_ESCALATE = "unassigned_escalate", _("Unassigned: escalate")
    FOLLOW_UP_TIER = "follow_up_tier", _("Care follow-up after support resolves (by tier)")
    FOLLOW_UP_COMPLAINT = "follow_up_complaint", _("Care follow-up after a complaint")


class CaseRule(models.Model):
    """A rule a manager sets (cases/rules.py): a time-based automation run by the periodic
    task, or a hand-off rule run when a case is resolved.

    ``after`` is N (business days waiting; minutes unassigned); ``then`` is M (business days
    more before closing); ``message`` / ``messages`` the reminder (per customer language);
    ``tiers`` the customer tiers a follow-up rule applies to.
    """

    kind = models.CharField(_("rule"), max_length=24, choices=RuleKind, unique=True)
    enabled = models.BooleanField(_("on"), default=False)
    after = models.PositiveIntegerField(_("after"), null=True, blank=True)
    then = models.PositiveIntegerField(_("then after"), null=True, blank=True)
    message = models.TextField(_("reminder text"), blank=True, default="")
    # The reminder in the customer's language (Locale code → text); ``message`` when none.
    messages = models.JSONField(_("reminder text per language"), default=dict, blank=True)
    tiers = models.JSONField(_("customer tiers"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind} ({'on' if self.enabled else 'off'})"


class CaseRuleRun(models.Model):
    """One step of a rule done for one case in one episode (the moment the case began waiting,
    or opened): the unique key is what keeps a retried or concurrent scan from acting twice."""

    rule = models.ForeignKey(CaseRule, on_delete=models.CASCADE, related_name="runs")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="rule_runs")
    step = models.CharField(max_length=16)
    episode = models.DateTimeField()
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "done_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "case", "step", "episode"], name="case_rule_step_once"
            ),
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} {self.step} on case {self.case_id}"


# What a customer sends that opens or joins a case; purchases, survey answers and
# notifications do not.
INBOUND_TYPES = (
    InteractionType.MESSAGE,
    InteractionType.CALL,
    InteractionType.VISIT,
    InteractionType.REVIEW,
)
# What staff send that answers a case (the first one is the first response).
REPLY_TYPES = (InteractionType.MESSAGE, InteractionType.CALL)
