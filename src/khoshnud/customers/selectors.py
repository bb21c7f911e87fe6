"""Reads for customers: search, the customer 360 view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from khoshnud.calendars import next_occurrence
from khoshnud.customers.identities import IdentityError, normalize_phone
from khoshnud.customers.models import Consent, Customer, Identity, PersonalDate
from khoshnud.customers.search import fold
from khoshnud.inputs import BIGINT_MAX, clean_query_text

_PHONEISH = re.compile(r"^[+\d\s()\-.]{4,}$")


def customer_search(*, query: str = "") -> QuerySet[Customer]:
    """Active (not merged) customers matching a name, email or phone typed in any digit system.

    Newest first. A phone in any written form (۰۹۱۲…, +98 912…) matches its E.164 identity.
    """
    qs = Customer.objects.filter(merged_into__isnull=True)
    text = fold(clean_query_text(query))
    if not text:
        return qs
    condition = Q(search_text__contains=text)
    if _PHONEISH.match(text):
        try:
            phone = normalize_phone(text)
            condition |= Q(identities__kind__in=["phone", "whatsapp"], identities__value=phone)
        except IdentityError:
            pass
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 4:
            condition |= Q(search_text__contains=digits.lstrip("0"))
    return qs.filter(condition).distinct()


def customer_get(*, customer_id: int) -> Customer:
    """The customer, following merges to the survivor; Http404 when there is none."""
    if not 1 <= customer_id <= BIGINT_MAX:  # cannot exist; the database would overflow
        raise Http404(f"no customer {customer_id}")
    customer = Customer.objects.filter(pk=customer_id).first()
    hops = 0
    while customer is not None and customer.merged_into_id is not None and hops < 10:
        customer = Customer.objects.filter(pk=customer.merged_into_id).first()
        hops += 1
    if customer is None:
        raise Http404(f"no customer {customer_id}")
    return customer


def consents_current(*, customer: Customer) -> list[Consent]:
    """The decision in force per channel (the newest one)."""
    latest: dict[str, Consent] = {}
    for consent in customer.consents.order_by("channel", "-recorded_at", "-id"):
        latest.setdefault(consent.channel, consent)
    return list(latest.values())


@dataclass
class UpcomingDate:
    date: PersonalDate
    next_day: Any


def personal_dates_upcoming(*, customer: Customer, today: Any) -> list[UpcomingDate]:
    return sorted(
        (
            UpcomingDate(d, next_occurrence(d.as_calendar_date(), today))
            for d in customer.personal_dates.all()
        ),
        key=lambda u: u.next_day,
    )


def customer_channel_counts(*, customer_id: int) -> dict[str, int]:
    from khoshnud.interactions.models import Interaction

    rows = (
        Interaction.objects.filter(customer_id=customer_id)
        .order_by()
        .values("channel")
        .annotate(n=Count("id"))
    )
    return {r["channel"]: r["n"] for r in rows}


def identities_of(*, customer: Customer) -> QuerySet[Identity]:
    return customer.identities.order_by("kind", "id")
