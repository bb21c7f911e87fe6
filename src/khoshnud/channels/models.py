"""Deliveries: the sending state of outbound interactions, beside the append-only log."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.interactions.models import Interaction


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for its (next) attempt
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # every attempt failed; the message itself is kept


class Delivery(models.Model):
    """How sending one outbound interaction went. A separate table keyed by the interaction,
    because the interaction log is append-only and a delivery changes state."""

    interaction = models.OneToOneField(
        Interaction, on_delete=models.DO_NOTHING, db_constraint=False, related_name="delivery"
    )
    channel = models.CharField(_("channel"), max_length=16)
    address = models.CharField(_("address"), max_length=255)
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_pending")]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}: {self.status}"
