"""The append-only interaction log: every touchpoint on every channel, per customer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.customers.models import Customer


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    FAX = "fax", _("Fax")
    TELEGRAM = "telegram", _("Telegram")
    INSTAGRAM = "instagram", _("Instagram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WECHAT = "wechat", _("WeChat")
    WEB = "web", _("Website")
    PORTAL = "portal", _("Customer portal")
    CHAT = "chat", _("Live chat")
    IN_PERSON = "in_person", _("In person")
    REVIEW = "review", _("Review site")
    API = "api", _("API")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class InteractionType(models.TextChoices):
    MESSAGE = "message", _("Message")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    PURCHASE = "purchase", _("Purchase")
    APPOINTMENT = "appointment", _("Appointment")
    REVIEW = "review", _("Review")
    SURVEY_ANSWER = "survey_answer", _("Survey answer")
    NOTE = "note", _("Note")
    NOTIFICATION = "notification", _("Notification")


class JourneyStage(models.TextChoices):
    AWARENESS = "awareness", _("Awareness")
    FIRST_CONTACT = "first_contact", _("First contact")
    PURCHASE = "purchase", _("Purchase")
    SERVICE = "service", _("Service / support")
    AFTER_PURCHASE = "after_purchase", _("After purchase / advocacy")


class AppendOnlyError(RuntimeError):
    """Interactions are never edited or deleted, except by an audited privacy erasure."""


class InteractionQuerySet(models.QuerySet["Interaction"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("the interaction log is append-only; use interaction_erase()")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the interaction log is append-only; use interaction_erase()")

    def _erase_update(self, **kwargs: Any) -> int:
        """Only for the audited erasure and merge handlers in interactions.services.erase."""
        return super().update(**kwargs)


class Interaction(models.Model):
    # db_constraint=False: a distributed store (Citus) shards this table by customer_id.
    # db_index=False: the timeline index starts with customer_id and serves every look-up by
    # customer; a second index on it only slowed ingestion down.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.DO_NOTHING,
        related_name="interactions",
        db_constraint=False,
        db_index=False,
        verbose_name=_("customer"),
    )
    channel = models.CharField(max_length=16, choices=Channel, verbose_name=_("channel"))
    direction = models.CharField(max_length=8, choices=Direction, verbose_name=_("direction"))
    type = models.CharField(max_length=16, choices=InteractionType, verbose_name=_("type"))
    stage = models.CharField(
        max_length=16, choices=JourneyStage, blank=True, default="", verbose_name=_("journey stage")
    )
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    text = models.TextField(blank=True, default="", verbose_name=_("text"))
    metadata = models.JSONField(default=dict, blank=True, verbose_name=_("metadata"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("staff"),
    )
    source = models.CharField(max_length=64, verbose_name=_("source"))
    external_id = models.CharField(max_length=128, verbose_name=_("external id"))
    created_at = models.DateTimeField(verbose_name=_("stored at"))
    erased_at = models.DateTimeField(null=True, blank=True, verbose_name=_("erased at"))

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="interaction_source_uid")
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="interaction_timeline"),
            models.Index(fields=["occurred_at"], name="interaction_occurred"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.type} {self.occurred_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_erasure", False):
            raise AppendOnlyError("the interaction log is append-only; use interaction_erase()")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the interaction log is append-only; use interaction_erase()")
