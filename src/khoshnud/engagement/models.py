"""Outreach: the occasion index, rules with their templates, and one row per message sent.

The occasion index keeps, for every personal date (and every customer's customer-since day),
its next Gregorian occurrence, indexed: "whose occasion is on day D" is one index range scan.
A ``Send`` row is claimed (inserted, unique per rule, customer and occurrence) before its
message leaves: that uniqueness is what makes a message go at most once even when a worker
dies mid-batch and the pass runs again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.calendars import Calendar
from khoshnud.customers.models import Customer, PersonalDate


class OccasionKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    WEDDING_ANNIVERSARY = "wedding_anniversary", _("Wedding anniversary")
    CUSTOMER_SINCE = "customer_since", _("Customer-since anniversary")
    CUSTOM = "custom", _("Custom date")


class Occasion(models.Model):
    """One recurring date of a customer with its next occurrence (``next_date``, Gregorian).

    Rebuilt from the personal date whenever that changes (``occasions.occasions_sync``) and
    moved on once the day has passed."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    # None for the customer-since anniversary, which comes from the customer row itself.
    personal_date = models.OneToOneField(
        PersonalDate, null=True, blank=True, on_delete=models.CASCADE, related_name="occasion"
    )
    kind = models.CharField(_("occasion"), max_length=24, choices=OccasionKind)
    label = models.CharField(_("label"), max_length=100, blank=True, default="")
    calendar = models.CharField(_("calendar"), max_length=12, choices=Calendar)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    leap_month = models.BooleanField(default=False)
    next_date = models.DateField(_("next occurrence"))

    class Meta:
        verbose_name = _("occasion")
        verbose_name_plural = _("occasions")
        indexes = [models.Index(fields=["next_date", "kind"], name="occasion_next")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(personal_date__isnull=True),
                name="occasion_one_since_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.next_date}"


class RuleKind(models.TextChoices):
    OCCASION = "occasion", _("Occasion")
    EVENT = "event", _("Event")
    INACTIVITY = "inactivity", _("Win-back after inactivity")
    CAMPAIGN = "campaign", _("One-off campaign")


class Rule(models.Model):
    """When to write to whom, on which channels, in which words (``templates`` per locale:
    ``{"fa": {"subject": "...", "body": "..."}, ...}``, checked when saved)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind)
    occasion = models.CharField(
        _("occasion"), max_length=24, choices=OccasionKind, blank=True, default=""
    )
    lead_days = models.PositiveSmallIntegerField(_("days before"), default=0)
    event = models.CharField(_("event name"), max_length=100, blank=True, default="")
    inactivity_days = models.PositiveIntegerField(_("days without a purchase"), default=0)
    # Campaigns: {"customer_ids": [...]} or a filter {"tier": ..., "locale": ..., "calendar": ...}
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    channels = models.JSONField(_("channels"), default=list)  # in order of preference
    window_start = models.TimeField(_("send from"))
    window_end = models.TimeField(_("send until"))
    quiet_start = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet until"), null=True, blank=True)
    weekly_cap = models.PositiveSmallIntegerField(_("messages per customer per week"), default=1)
    offer_code = models.CharField(_("offer code"), max_length=64, blank=True, default="")
    products = models.CharField(_("recommended products"), max_length=500, blank=True, default="")
    templates = models.JSONField(_("templates"), default=dict)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Trigger(models.Model):
    """An event that fires the event rules of its name for one customer (a notification
    interaction or the trigger endpoint); consumed by the next pass."""

    event = models.CharField(max_length=100)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)  # the event's own id: the same event fires once
    fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "customer", "key"], name="trigger_once")
        ]
        indexes = [models.Index(fields=["handled_at", "event"], name="trigger_pending")]

    def __str__(self) -> str:
        return f"{self.event} {self.key}"


class SendStatus(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")  # the pass took it; the message is leaving
    RETRY = "retry", _("Waiting to retry")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")  # consent withdrawn between claiming and sending


class Send(models.Model):
    """One message of a rule to a customer for one occurrence: at most one row each."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="sends")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    occurrence = models.CharField(_("occurrence"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16)
    address = models.CharField(_("address"), max_length=255)
    locale = models.CharField(max_length=8)
    subject = models.CharField(_("subject"), max_length=255, blank=True, default="")
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=16, choices=SendStatus, default=SendStatus.CLAIMED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=255, blank=True, default="")
    interaction_id = models.BigIntegerField(null=True, blank=True)  # the outbound interaction
    batch = models.CharField(max_length=32)  # the pass that claimed it
    claimed_at = models.DateTimeField(_("claimed at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outreach message")
        verbose_name_plural = _("outreach messages")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "customer", "occurrence"], name="send_once_per_occurrence"
            )
        ]
        indexes = [
            models.Index(fields=["customer", "claimed_at"], name="send_customer_week"),
            models.Index(fields=["status", "next_attempt_at"], name="send_pending"),
            models.Index(fields=["-claimed_at"], name="send_log"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.customer_id}/{self.occurrence}: {self.status}"
