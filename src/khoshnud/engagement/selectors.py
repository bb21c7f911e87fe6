"""Reads of the engagement app: upcoming occasions, when a rule may write, what it would say."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone, translation

from khoshnud.calendars import CalendarDate, format_calendar_date, format_datetime
from khoshnud.customers.models import Customer, Locale
from khoshnud.engagement.models import Occasion, OccasionKind, Rule, RuleKind, Send
from khoshnud.engagement.templating import pick_locale, render

MAX_UPCOMING_DAYS = 366
MAX_UPCOMING_ROWS = 5000


def zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def in_quiet_hours(rule: Rule, clock: dt.time) -> bool:
    """Quiet hours may wrap midnight (22:00–07:00): start inclusive, end exclusive."""
    start, end = rule.quiet_start, rule.quiet_end
    if start is None or end is None:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def may_send_at(rule: Rule, local: dt.datetime) -> bool:
    """Inside the send window (start inclusive, end exclusive) and outside quiet hours,
    both in the customer's local time."""
    clock = local.time().replace(tzinfo=None)
    return rule.window_start <= clock < rule.window_end and not in_quiet_hours(rule, clock)


def first_send_moment(rule: Rule, day: dt.date, tz: dt.tzinfo) -> dt.datetime | None:
    """The first moment of the local ``day`` the rule may write (window, then quiet hours)."""
    candidates = [rule.window_start]
    if rule.quiet_end is not None:
        candidates.append(rule.quiet_end)
    for clock in sorted(candidates):
        moment = dt.datetime.combine(day, clock, tzinfo=tz)
        if may_send_at(rule, moment):
            return moment
    return None


@dataclass(frozen=True)
class Upcoming:
    customer_id: int
    customer_name: str
    occasion: str
    date: dt.date
    calendar_date: str  # as the customer gave it: calendar:MM-DD (YYYY- when known)
    calendar_value: CalendarDate
    rule_id: int | None
    rule_name: str
    send_at: dt.datetime | None

    @property
    def occasion_label(self) -> str:
        return str(OccasionKind(self.occasion).label)

    @property
    def send_at_text(self) -> str:
        """When it goes, on the customer's own clock, worded for the viewer's language."""
        if self.send_at is None:
            return ""
        return format_datetime(self.send_at, translation.get_language() or "en")


def _calendar_text(o: Occasion) -> str:
    year = f"{o.year:04d}-" if o.year else ""
    leap = "L" if o.leap_month else ""
    return f"{o.calendar}:{year}{leap}{o.month:02d}-{o.day:02d}"


def is_anniversary(o: Occasion) -> bool:
    """False for the customer-since day itself (the year they joined): no anniversary yet."""
    return not (o.kind == OccasionKind.CUSTOMER_SINCE and o.year and o.next_date.year <= o.year)


def upcoming(
    *, days: int, today: dt.date | None = None, limit: int = MAX_UPCOMING_ROWS
) -> list[Upcoming]:
    """Occasions from ``today`` to ``today + days`` (inclusive), each with the active occasion
    rules that will write for it and when (the first moment of the send day, in the customer's
    time zone, that the window and quiet hours allow). One indexed range query on next_date."""
    today = today or timezone.localdate()
    end = today + dt.timedelta(days=days)
    rules = list(Rule.objects.filter(is_active=True, kind=RuleKind.OCCASION).order_by("id"))
    rows = (
        Occasion.objects.filter(next_date__gte=today, next_date__lte=end)
        .select_related("customer")
        .order_by("next_date", "customer_id", "kind")[:limit]
    )
    out: list[Upcoming] = []
    for o in rows:
        if not is_anniversary(o):
            continue
        matching = [r for r in rules if r.occasion == o.kind]

        def row(rule: Rule | None, moment: dt.datetime | None, o: Occasion = o) -> Upcoming:
            return Upcoming(
                customer_id=o.customer_id,
                customer_name=f"{o.customer.first_name} {o.customer.last_name}".strip(),
                occasion=o.kind,
                date=o.next_date,
                calendar_date=_calendar_text(o),
                calendar_value=CalendarDate(o.calendar, o.year, o.month, o.day, o.leap_month),
                rule_id=rule.pk if rule else None,
                rule_name=rule.name if rule else "",
                send_at=moment,
            )

        if not matching:
            out.append(row(None, None))
        for rule in matching:
            send_day = o.next_date - dt.timedelta(days=rule.lead_days)
            out.append(row(rule, first_send_moment(rule, send_day, zone(o.customer.time_zone))))
    return out


def occasion_label(kind: str, locale: str) -> str:
    with translation.override(locale):
        return str(OccasionKind(kind).label) if kind in OccasionKind.values else kind


def template_values(
    *,
    rule: Rule,
    customer: Customer,
    locale: str,
    occasion: Occasion | None = None,
    event: str = "",
) -> dict[str, str]:
    values = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "offer_code": rule.offer_code,
        "products": rule.products,
        "event": event or rule.event,
        "occasion": occasion_label(occasion.kind if occasion else rule.occasion, locale)
        if (occasion or rule.occasion)
        else "",
        "occasion_date": "",
    }
    if occasion is not None:
        value = CalendarDate(
            occasion.calendar, None, occasion.month, occasion.day, occasion.leap_month
        )
        values["occasion_date"] = format_calendar_date(value, locale)
    return values


def message_for(
    *, rule: Rule, customer: Customer, occasion: Occasion | None = None, event: str = ""
) -> tuple[str, str, str]:
    """(locale, subject, text) of the rule's message to the customer, in their language."""
    locale = pick_locale(rule.templates, customer.locale or Locale.EN)
    template = rule.templates[locale]
    values = template_values(
        rule=rule, customer=customer, locale=locale, occasion=occasion, event=event
    )
    return locale, render(template.get("subject", ""), values), render(template["body"], values)


def preview_occasion(*, rule: Rule, customer: Customer) -> Occasion | None:
    """The customer's occasion of the rule's kind (the nearest), for a preview."""
    if rule.kind != RuleKind.OCCASION:
        return None
    return (
        Occasion.objects.filter(customer=customer, kind=rule.occasion).order_by("next_date").first()
    )


def sends_log(
    *,
    status: str = "",
    channel: str = "",
    rule_id: int | None = None,
    customer_id: int | None = None,
) -> QuerySet[Send]:
    rows = Send.objects.select_related("rule", "customer").order_by("-claimed_at", "-id")
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    if rule_id:
        rows = rows.filter(rule_id=rule_id)
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    return rows


def customer_outreach(*, customer_id: int, limit: int = 50) -> list[Send]:
    return list(sends_log(customer_id=customer_id)[:limit])


def rules_list() -> QuerySet[Rule]:
    return Rule.objects.order_by("-is_active", "name", "id")


def rule_as_input(rule: Rule) -> dict[str, Any]:
    """A rule as the API takes it (the editor fills its form from this)."""
    clock = "%H:%M"
    return {
        "name": rule.name,
        "kind": rule.kind,
        "occasion": rule.occasion,
        "lead_days": rule.lead_days,
        "event": rule.event,
        "inactivity_days": rule.inactivity_days,
        "audience": rule.audience,
        "starts_at": rule.starts_at.isoformat() if rule.starts_at else None,
        "channels": rule.channels,
        "send_window": [rule.window_start.strftime(clock), rule.window_end.strftime(clock)],
        "quiet_hours": [rule.quiet_start.strftime(clock), rule.quiet_end.strftime(clock)]
        if rule.quiet_start and rule.quiet_end
        else None,
        "weekly_cap": rule.weekly_cap,
        "offer_code": rule.offer_code,
        "products": rule.products,
        "templates": rule.templates,
        "is_active": rule.is_active,
    }


def customers_by_id(ids: Iterable[int]) -> dict[int, Customer]:
    return {c.pk: c for c in Customer.objects.filter(pk__in=list(ids))}


def preview_customers(rule: Rule, limit: int = 50) -> list[Customer]:
    """Customers to preview a rule with: those with this occasion soonest, else the newest."""
    if rule.kind == RuleKind.OCCASION:
        ids = list(
            Occasion.objects.filter(kind=rule.occasion, next_date__gte=timezone.localdate())
            .order_by("next_date")
            .values_list("customer_id", flat=True)[:limit]
        )
        found = customers_by_id(ids)
        return [found[i] for i in ids if i in found]
    return list(Customer.objects.filter(merged_into__isnull=True).order_by("-id")[:limit])
