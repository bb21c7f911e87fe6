"""Customers, their identities per channel, personal dates and consents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.calendars import Calendar, CalendarDate


class Locale(models.TextChoices):
    FA = "fa", "فارسی"
    ZH = "zh-hans", "简体中文"
    EN = "en", "English"


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    LOYAL = "loyal", _("Loyal")
    KEY = "key", _("Key")


class Customer(models.Model):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    locale = models.CharField(_("language"), max_length=8, choices=Locale, default=Locale.EN)
    calendar = models.CharField(_("calendar"), max_length=12, choices=Calendar, default="gregorian")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    tier = models.CharField(_("tier"), max_length=12, choices=Tier, default=Tier.STANDARD)
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    # Lower-cased "first last" plus identities, for search in any script.
    search_text = models.TextField(default="", blank=True, verbose_name=_("search text"))
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("customer since"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return self.full_name or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        if self.locale == Locale.ZH and self.last_name and self.first_name:
            return f"{self.last_name}{self.first_name}"  # Chinese names: family name first
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    TELEGRAM = "telegram", _("Telegram")
    INSTAGRAM = "instagram", _("Instagram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WECHAT = "wechat", _("WeChat")
    EXTERNAL = "external", _("External id")


class Identity(models.Model):
    """How a channel knows the customer; a value belongs to one customer only."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="identities", verbose_name=_("customer")
    )
    kind = models.CharField(max_length=16, choices=IdentityKind, verbose_name=_("kind"))
    value = models.CharField(max_length=255, verbose_name=_("value"))
    is_primary = models.BooleanField(default=False, verbose_name=_("primary"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("added"))

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique")]
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        # Shown in the admin: the kind in the viewer's language, the value as it is.
        return f"{self.get_kind_display()}: {self.value}"


class DateKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    WEDDING_ANNIVERSARY = "wedding_anniversary", _("Wedding anniversary")
    CUSTOM = "custom", _("Custom")


class PersonalDate(models.Model):
    """A date that matters to the customer, kept in the calendar they gave it in."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="personal_dates",
        verbose_name=_("customer"),
    )
    kind = models.CharField(max_length=24, choices=DateKind, verbose_name=_("kind"))
    label = models.CharField(max_length=100, blank=True, verbose_name=_("label"))
    calendar = models.CharField(max_length=12, choices=Calendar, verbose_name=_("calendar"))
    year = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("year"))
    month = models.PositiveSmallIntegerField(verbose_name=_("month"))
    day = models.PositiveSmallIntegerField(verbose_name=_("day"))
    leap_month = models.BooleanField(
        default=False, help_text=_("Chinese lunar leap month"), verbose_name=_("leap month")
    )

    class Meta:
        verbose_name = _("personal date")
        verbose_name_plural = _("personal dates")
        ordering = ["kind", "month", "day"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.as_calendar_date()}"

    def as_calendar_date(self) -> CalendarDate:
        return CalendarDate(self.calendar, self.year, self.month, self.day, self.leap_month)


class ConsentChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    TELEGRAM = "telegram", _("Telegram")
    INSTAGRAM = "instagram", _("Instagram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WECHAT = "wechat", _("WeChat")


class Consent(models.Model):
    """One consent decision; the latest row per (customer, channel) is in force."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consents", verbose_name=_("customer")
    )
    channel = models.CharField(max_length=16, choices=ConsentChannel, verbose_name=_("channel"))
    granted = models.BooleanField(verbose_name=_("granted"))
    method = models.CharField(_("how"), max_length=100)
    recorded_at = models.DateTimeField(verbose_name=_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["channel", "-recorded_at", "-id"]
        indexes = [models.Index(fields=["customer", "channel", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {_('Yes') if self.granted else _('No')}"
