"""Business calendars and the service catalog (targets per case kind × customer tier × channel)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from khoshnud.calendars import Calendar, CalendarDate
from khoshnud.customers.models import Tier
from khoshnud.interactions.models import Channel


class ServiceKind(models.TextChoices):
    """The three kinds of work (seed 001); cases carry one, the catalog prices each."""

    SERVICE = "service", _("Service")
    SUPPORT = "support", _("Support")
    CARE = "care", _("Care")


class Weekday(models.IntegerChoices):
    """Python's ``date.weekday()`` numbering."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessCalendar(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """One working interval of a weekday; several per day make split shifts."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    # Minutes after local midnight; end 1440 is midnight at the end of the day.
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["calendar", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_minute__lt=models.F("end_minute"), end_minute__lte=1440),
                name="working_hours_forward",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_minute}–{self.end_minute}"


class Holiday(models.Model):
    """A day off entered in its own calendar; no year means every year (Nowruz, New Year)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    name = models.CharField(_("name"), max_length=100)
    date_calendar = models.CharField(_("calendar of the date"), max_length=12, choices=Calendar)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    leap_month = models.BooleanField(default=False, help_text="Chinese lunar leap month")

    class Meta:
        ordering = ["calendar", "date_calendar", "month", "day"]

    def __str__(self) -> str:
        return f"{self.name} ({self.as_calendar_date()})"

    def as_calendar_date(self) -> CalendarDate:
        return CalendarDate(self.date_calendar, self.year, self.month, self.day, self.leap_month)


class ServiceLevel(models.Model):
    """A catalog entry: what a customer of ``tier`` is promised for a case of ``kind``.

    ``channel`` empty means every channel; an entry for the case's own channel wins.
    """

    kind = models.CharField(_("case kind"), max_length=8, choices=ServiceKind)
    tier = models.CharField(_("customer tier"), max_length=12, choices=Tier)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel, blank=True, default="")
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="service_levels"
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))
    # Tighter targets for a customer entitled to support by a purchase (optional).
    entitled_first_response_minutes = models.PositiveIntegerField(
        _("first response when entitled (business minutes)"), null=True, blank=True
    )
    entitled_resolution_minutes = models.PositiveIntegerField(
        _("resolution when entitled (business minutes)"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "tier", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "tier", "channel"], name="service_level_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(first_response_minutes__gt=0, resolution_minutes__gt=0),
                name="service_level_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.tier}/{self.channel or '*'}"
