"""Customer feedback: surveys and their questions, invitations (single-use links), the flat
table of answers every metric reads, care follow-ups of unhappy answers, and case verdicts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.cases.models import Case
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Channel


class ScoreKind(models.TextChoices):
    NPS = "nps", _("Net Promoter Score (0–10)")
    CSAT = "csat", _("Satisfaction (1–5)")
    CES = "ces", _("Customer effort (1–7)")
    CUSTOM = "custom", _("Custom question")


# The scales of the standard kinds: (lowest, highest), both included.
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


class QuestionKind(models.TextChoices):
    NPS = "nps", _("Net Promoter Score (0–10)")
    CSAT = "csat", _("Satisfaction (1–5)")
    CES = "ces", _("Customer effort (1–7)")
    SCALE = "scale", _("Custom scale")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Free text")


class Trigger(models.TextChoices):
    MANUAL = "manual", _("Sent by hand or by the API")
    CASE_RESOLVED = "case_resolved", _("After a case is resolved")
    PURCHASE = "purchase", _("Some days after a purchase")
    PERIODIC = "periodic", _("Periodically (relationship survey)")


class Survey(models.Model):
    name = models.CharField(_("name"), max_length=120)
    # Title and introduction per locale: {"en": "...", "fa": "...", "zh-hans": "..."}.
    titles = models.JSONField(_("titles"), default=dict, blank=True)
    intros = models.JSONField(_("introductions"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger, default=Trigger.MANUAL)
    # After a resolved case: hours to wait; after a purchase: days to wait; periodic: the
    # period in days (a customer is invited again once it has passed).
    delay_hours = models.PositiveIntegerField(_("delay (hours, after a case)"), default=1)
    delay_days = models.PositiveIntegerField(_("delay (days, after a purchase)"), default=7)
    period_days = models.PositiveIntegerField(_("period (days, relationship survey)"), default=90)
    # Which case kinds it follows (empty: all).
    case_kinds = models.JSONField(_("case kinds"), default=list, blank=True)
    link_valid_days = models.PositiveIntegerField(_("link valid for (days)"), default=14)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind)
    texts = models.JSONField(_("texts"), default=dict)  # locale → question
    # The "why?" under a score, per locale; empty: no comment box.
    comment_texts = models.JSONField(_("comment prompts"), default=dict, blank=True)
    # A custom scale's ends (NPS, CSAT and CES have fixed ones: SCALES).
    scale_min = models.SmallIntegerField(_("scale from"), null=True, blank=True)
    scale_max = models.SmallIntegerField(_("scale to"), null=True, blank=True)
    # A choice question's options: [{"value": "price", "texts": {"en": ..., "fa": ...}}].
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.survey_id}.{self.position} {self.kind}"


class Invitation(models.Model):
    """One customer asked one survey: a link that works once, until it expires. The link's
    token is an HMAC of ``secret`` under the SECRET_KEY (feedback.links): the database alone
    does not give it away, and the sending task can build it again."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    secret = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    reason = models.CharField(_("why"), max_length=16, choices=Trigger, default=Trigger.MANUAL)
    locale = models.CharField(_("language"), max_length=8, default="en")
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    # The first score given with one tap from the email; the rest of the page may follow.
    started_at = models.DateTimeField(_("first score at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    interaction_id = models.BigIntegerField(null=True, blank=True)  # the logged outbound message
    # The purchase an after-purchase invitation asks about (its answers are about its product).
    order = models.ForeignKey(
        "commerce.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Fatigue: a customer's latest invitation.
            models.Index(fields=["customer", "-created_at"], name="invitation_customer_recent"),
        ]

    def __str__(self) -> str:
        return f"survey {self.survey_id} → customer {self.customer_id}"


class Source(models.TextChoices):
    PAGE = "page", _("Survey page")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class SurveyResponse(models.Model):
    """One answer to one question: the flat table that every feedback metric reads."""

    kind = models.CharField(_("kind"), max_length=8, choices=ScoreKind)
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    choice = models.CharField(_("choice"), max_length=64, blank=True, default="")
    comment = models.TextField(_("comment"), blank=True, default="")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    # The case it follows, and the agent who resolved that case (who the CSAT counts for).
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("agent"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    answered_at = models.DateTimeField(_("answered at"))
    source = models.CharField(_("source"), max_length=8, choices=Source)
    # The inbound "survey answer" interaction that carried it.
    interaction_id = models.BigIntegerField(null=True, blank=True)
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    # The product the answer is about when it says so itself (an imported answer's SKU, an
    # after-purchase invitation's order); else its case's product counts (docs/metrics.md).
    product = models.ForeignKey(
        "commerce.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("product"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-answered_at", "-id"]
        indexes = [
            models.Index(fields=["answered_at"], name="response_answered"),
            models.Index(fields=["kind", "answered_at"], name="response_kind_answered"),
            models.Index(fields=["agent", "answered_at"], name="response_agent_answered"),
            models.Index(fields=["customer", "answered_at"], name="response_customer"),
            models.Index(fields=["interaction_id"], name="response_interaction"),
        ]
        constraints = [
            # An invitation's question is answered once: nothing is counted twice.
            models.UniqueConstraint(
                fields=["invitation", "question"],
                name="response_once_per_invitation",
                condition=models.Q(invitation__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} ({self.answered_at:%Y-%m-%d})"


class RecoveryOutcome(models.TextChoices):
    OPEN = "open", _("Being followed up")
    RESOLVED = "resolved", _("Problem solved")
    COMPENSATED = "compensated", _("Compensated")
    UNREACHABLE = "unreachable", _("Could not reach the customer")
    DECLINED = "declined", _("Customer declined")


class Recovery(models.Model):
    """A care follow-up of an unhappy answer (NPS 0–6, CSAT 1–2): the case it opened, what
    came of it, and the customer's next answer (won back or not)."""

    response = models.OneToOneField(
        SurveyResponse, on_delete=models.CASCADE, related_name="recovery"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"))
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=RecoveryOutcome, default=RecoveryOutcome.OPEN
    )
    outcome_note = models.TextField(_("note"), blank=True, default="")
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    next_response = models.ForeignKey(
        SurveyResponse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    won_back = models.BooleanField(_("won back"), null=True, blank=True)

    class Meta:
        verbose_name = _("care follow-up")
        verbose_name_plural = _("care follow-ups")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["opened_at"], name="recovery_opened"),
            models.Index(fields=["customer", "won_back"], name="recovery_customer"),
        ]

    def __str__(self) -> str:
        return f"recovery of answer {self.response_id}"


class Verdict(models.TextChoices):
    FELL_SHORT = "fell_short", _("Fell short")
    MET = "met", _("Met expectations")
    EXCEEDED = "exceeded", _("Exceeded (delighted)")


class CaseVerdict(models.Model):
    """How a resolved case did against its catalog entry and its feedback (seed 004)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="verdict")
    verdict = models.CharField(_("verdict"), max_length=12, choices=Verdict)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"))
    decided_at = models.DateTimeField(_("decided at"))

    class Meta:
        verbose_name = _("case verdict")
        verbose_name_plural = _("case verdicts")
        ordering = ["-resolved_at", "-id"]
        indexes = [models.Index(fields=["resolved_at"], name="verdict_resolved")]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.verdict}"


class DelightAction(models.Model):
    """Something done for a customer beyond what the catalog promises (a gift, a call back)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="delight_actions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("what was done"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delight action")
        verbose_name_plural = _("delight actions")
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.note[:40]}"


class PageHits(models.Model):
    """Requests to the public survey page from one client address in the current window (the
    page's rate limit, kept in the database so that every web process shares it)."""

    ip = models.CharField(max_length=45, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()

    class Meta:
        verbose_name = _("survey page requests")
        verbose_name_plural = _("survey page requests")

    def __str__(self) -> str:
        return f"{self.ip}: {self.count}"
