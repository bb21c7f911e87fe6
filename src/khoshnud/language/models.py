"""What the language pipeline decided about an inbound interaction, and agents' corrections."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Need(models.TextChoices):
    SERVICE = "service", _("Service")
    SUPPORT = "support", _("Support")
    CARE = "care", _("Care")
    OTHER = "other", _("Other")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class MessageAnalysis(models.Model):
    """One row per classified interaction (kept apart: the interaction log is append-only)."""

    interaction = models.OneToOneField(
        "interactions.Interaction",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="analysis",
        primary_key=True,
        verbose_name=_("interaction"),
    )
    customer_id = models.BigIntegerField(db_index=True, verbose_name=_("customer id"))
    language = models.CharField(max_length=8, verbose_name=_("language"))
    language_confidence = models.FloatField(verbose_name=_("language confidence"))
    need = models.CharField(max_length=8, choices=Need, verbose_name=_("need"))
    need_probabilities = models.JSONField(default=dict, verbose_name=_("need probabilities"))
    sentiment = models.CharField(max_length=8, choices=Sentiment, verbose_name=_("sentiment"))
    sentiment_score = models.FloatField(verbose_name=_("sentiment score"))
    model_version = models.CharField(max_length=64, verbose_name=_("model version"))
    analysed_at = models.DateTimeField(verbose_name=_("analysed at"))
    corrected_need = models.CharField(
        max_length=8, choices=Need, blank=True, default="", verbose_name=_("corrected need")
    )
    corrected_sentiment = models.CharField(
        max_length=8,
        choices=Sentiment,
        blank=True,
        default="",
        verbose_name=_("corrected sentiment"),
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("corrected by"),
    )
    corrected_at = models.DateTimeField(null=True, blank=True, verbose_name=_("corrected at"))

    class Meta:
        verbose_name = _("message analysis")
        verbose_name_plural = _("message analyses")

    def __str__(self) -> str:
        return f"{self.interaction_id}: {self.final_need}/{self.final_sentiment}"

    @property
    def final_need(self) -> str:
        return self.corrected_need or self.need

    @property
    def final_sentiment(self) -> str:
        return self.corrected_sentiment or self.sentiment
