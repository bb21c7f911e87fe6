"""Deliveries (the sending state of outbound interactions, beside the append-only log) and
messaging channel accounts (a Telegram bot, a WhatsApp number, an Instagram account, a WeChat
official account) with their credentials encrypted at rest."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from khoshnud.interactions.models import Interaction


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for its (next) attempt
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")  # the provider's receipt (WhatsApp)
    READ = "read", pgettext_lazy("delivery status", "Read")  # a receipt (WhatsApp, Instagram)
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
        _("status"), max_length=16, choices=DeliveryStatus, default=DeliveryStatus.QUEUED
    )
    # The provider's id of the sent message (Telegram message_id, WhatsApp wamid, Instagram
    # mid): how its delivery and read receipts find this delivery.
    provider_id = models.CharField(
        _("provider's message id"), max_length=255, blank=True, default="", db_index=True
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


class Provider(models.TextChoices):
    """Messaging providers; each is also the channel and the identity kind of its messages."""

    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    INSTAGRAM = "instagram", _("Instagram")
    WECHAT = "wechat", _("WeChat")


class ChannelAccount(models.Model):
    """One account on a messaging provider: its webhook (by ``slug``) and its credentials,
    encrypted (channels.credentials); never shown again after saving."""

    provider = models.CharField(_("provider"), max_length=16, choices=Provider)
    name = models.CharField(_("name"), max_length=100)
    # The webhook URL's unguessable part (the signature is the authentication; the slug only
    # keeps strangers from probing accounts by number).
    slug = models.CharField(_("webhook slug"), max_length=43, unique=True)
    credentials_encrypted = models.TextField(_("credentials (encrypted)"))
    is_active = models.BooleanField(_("active"), default=True)
    # WeChat's access token, cached until shortly before it expires (encrypted too).
    access_token_encrypted = models.TextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    last_test_status = models.CharField(_("last test"), max_length=16, blank=True, default="")
    last_test_error = models.CharField(_("last test error"), max_length=500, blank=True, default="")
    last_test_at = models.DateTimeField(_("last test at"), null=True, blank=True)
    # The provider's words when it last refused these credentials (a revoked token, a wrong
    # app secret); shown on the accounts page until they are changed or a send succeeds.
    credentials_error = models.CharField(
        _("credentials refused"), max_length=500, blank=True, default=""
    )
    credentials_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        ordering = ["provider", "name", "id"]

    def __str__(self) -> str:
        return f"{self.get_provider_display()}: {self.name}"
