"""The scheduler pass: find what is due, check it, claim it, send it.

One pass (``engagement_run``), run by the periodic job ``engagement.pass`` on the queue or by
``khoshnud engagement run [--now]``:

1. bring the occasion index up to date (the quick way: new dates, passed days);
2. collect candidates: occasion rules (the occasion's day minus the lead, in the customer's
   local date), event rules (triggers of the last two days), win-back rules (last order more
   than N days ago), campaigns (their audience, once started);
3. drop what was already claimed (the unique send row), then per candidate: the send window
   and quiet hours in the customer's local time (else ``skipped_quiet``: a later pass sends
   it), the first channel in preference order with consent in force and an address (else
   ``skipped_no_consent``), the weekly cap across all rules (else ``skipped_cap``);
4. claim: insert the send rows and their outbound interactions in one transaction;
5. send every claimed row (``sending.sends_deliver``): a worker killed after 4 leaves claimed
   rows that the next pass sends — once, because the row is locked and re-checked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from khoshnud.channels.outbound import NoAdapter, outbound_adapter
from khoshnud.commerce.models import Order
from khoshnud.customers.models import Customer, Identity, IdentityKind, Locale
from khoshnud.engagement.models import Occasion, Rule, RuleKind, Send, SendStatus, Trigger
from khoshnud.engagement.occasions import occasions_sync
from khoshnud.engagement.selectors import (
    is_anniversary,
    may_send_at,
    message_for,
    zone,
)
from khoshnud.engagement.sending import outreach_interactions, sends_deliver
from khoshnud.engagement.services import consent_in_force

TRIGGER_DAYS = 2  # an event older than this no longer fires its rules
WEEK = dt.timedelta(days=7)
_COUNTED = (SendStatus.CLAIMED, SendStatus.RETRY, SendStatus.SENT)


@dataclass
class PassResult:
    due: int = 0
    sent: int = 0
    skipped_no_consent: int = 0
    skipped_cap: int = 0
    skipped_quiet: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Candidate:
    rule: Rule
    customer: Customer
    occurrence: str
    occasion: Occasion | None = None
    event: str = ""

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.rule.pk, self.customer.pk, self.occurrence)


def _occasion_candidates(rule: Rule, now: dt.datetime) -> Iterator[Candidate]:
    """Occasions whose send day (the day minus the lead) is today in the customer's zone.
    Today differs by zone, so the indexed query takes the three UTC-neighbouring days; the
    customers are then read by primary key (a join let PostgreSQL scan the customer table)."""
    lead = dt.timedelta(days=rule.lead_days)
    today = now.astimezone(dt.UTC).date()
    days = [today + dt.timedelta(days=d) + lead for d in (-1, 0, 1)]
    rows = list(
        Occasion.objects.filter(next_date__in=days, kind=rule.occasion).order_by(
            "customer_id", "id"
        )
    )
    ids = sorted({o.customer_id for o in rows})
    customers: dict[int, Customer] = {}
    for i in range(0, len(ids), 5000):
        customers.update(
            (c.pk, c)
            for c in Customer.objects.filter(pk__in=ids[i : i + 5000], merged_into__isnull=True)
        )
    zones: dict[str, dt.date] = {}
    for o in rows:
        customer = customers.get(o.customer_id)
        if customer is None:
            continue
        local_today = zones.get(customer.time_zone)
        if local_today is None:
            local_today = zones[customer.time_zone] = now.astimezone(
                zone(customer.time_zone)
            ).date()
        if o.next_date - lead == local_today and is_anniversary(o):
            o.customer = customer
            yield Candidate(rule, customer, f"{o.kind}:{o.next_date.isoformat()}", occasion=o)


def _event_candidates(rule: Rule, now: dt.datetime) -> Iterator[Candidate]:
    rows = (
        Trigger.objects.filter(
            event=rule.event, created_at__gte=now - dt.timedelta(days=TRIGGER_DAYS)
        )
        .select_related("customer")
        .order_by("id")
    )
    for t in rows:
        yield Candidate(rule, t.customer, f"event:{t.key}"[:64], event=t.event)


def _inactivity_candidates(rule: Rule, now: dt.datetime) -> Iterator[Candidate]:
    """Customers whose last order is more than N days old: once per lapse (the occurrence is
    the last order's day, so a new order and a new lapse write again)."""
    cutoff = now - dt.timedelta(days=rule.inactivity_days)
    lapsed = (
        Order.objects.values("customer_id")
        .annotate(last=Max("placed_at"))
        .filter(last__lt=cutoff)
        .values_list("customer_id", "last")
    )
    last = dict(lapsed)
    customers = Customer.objects.filter(pk__in=list(last), merged_into__isnull=True)
    for customer in customers.order_by("id"):
        yield Candidate(rule, customer, f"lapsed:{last[customer.pk].date().isoformat()}")


def _campaign_candidates(rule: Rule, now: dt.datetime) -> Iterator[Candidate]:
    if rule.starts_at and rule.starts_at > now:
        return
    rows = Customer.objects.filter(merged_into__isnull=True)
    audience = rule.audience or {}
    if "customer_ids" in audience:
        rows = rows.filter(pk__in=audience["customer_ids"])
    for key in ("tier", "locale", "calendar"):
        if key in audience:
            rows = rows.filter(**{key: audience[key]})
    for customer in rows.order_by("id"):
        yield Candidate(rule, customer, "campaign")


_FINDERS = {
    RuleKind.OCCASION: _occasion_candidates,
    RuleKind.EVENT: _event_candidates,
    RuleKind.INACTIVITY: _inactivity_candidates,
    RuleKind.CAMPAIGN: _campaign_candidates,
}


def candidates_due(*, now: dt.datetime) -> list[Candidate]:
    """Every (rule, customer, occurrence) due at ``now`` that has no send row yet."""
    found: list[Candidate] = []
    for rule in Rule.objects.filter(is_active=True).order_by("id"):
        batch = list(_FINDERS[RuleKind(rule.kind)](rule, now))
        if not batch:
            continue
        claimed = set(
            Send.objects.filter(
                rule=rule, customer_id__in=[c.customer.pk for c in batch]
            ).values_list("customer_id", "occurrence")
        )
        found.extend(c for c in batch if (c.customer.pk, c.occurrence) not in claimed)
    return found


def preferred_channels(rule: Rule, customer: Customer) -> list[str]:
    """The rule's channels, in the customer's order of preference when they gave one
    (``attributes["preferred_channels"]``), else in the rule's order."""
    own = customer.attributes.get("preferred_channels") if customer.attributes else None
    channels = list(rule.channels)
    if isinstance(own, list):
        ranked = [c for c in own if c in channels]
        channels = ranked + [c for c in channels if c not in ranked]
    return channels


_IDENTITY_OF = {"email": IdentityKind.EMAIL, "sms": IdentityKind.PHONE}


def addresses_of(customer_ids: list[int], channels: set[str]) -> dict[tuple[int, str], str]:
    """(customer, channel) → address for email and SMS in one query per channel (the
    customer's primary identity of that kind, else the oldest), as their adapters choose."""
    found: dict[tuple[int, str], str] = {}
    for channel in sorted(channels & set(_IDENTITY_OF)):
        rows = (
            Identity.objects.filter(customer_id__in=customer_ids, kind=_IDENTITY_OF[channel])
            .order_by("customer_id", "-is_primary", "id")
            .values_list("customer_id", "value")
        )
        for customer_id, value in rows:
            found.setdefault((customer_id, channel), value)
    return found


def route(
    rule: Rule,
    customer: Customer,
    consented: set[tuple[int, str]],
    known: dict[tuple[int, str], str] | None = None,
) -> tuple[str, str] | None:
    """(channel, address): the first preferred channel with consent in force and an address.
    ``known``: addresses looked up beforehand (``addresses_of``)."""
    for channel in preferred_channels(rule, customer):
        if (customer.pk, channel) not in consented:
            continue
        if known is not None and channel in _IDENTITY_OF:
            address = known.get((customer.pk, channel))
        else:
            try:
                address = outbound_adapter(channel).address(customer_id=customer.pk)
            except NoAdapter:
                continue
        if address:
            return channel, address
    return None


def _week_counts(customer_ids: list[int], now: dt.datetime) -> Counter[int]:
    rows = (
        Send.objects.filter(
            customer_id__in=customer_ids, claimed_at__gt=now - WEEK, status__in=_COUNTED
        )
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    return Counter(dict(rows))


def _claim(rows: list[Send]) -> list[Send]:
    """Insert the send rows (and their interactions) in one transaction. A concurrent pass
    that claimed some first makes the bulk insert fail: then one by one, the taken skipped."""
    try:
        with transaction.atomic():
            created = Send.objects.bulk_create(rows)
            outreach_interactions(created)
            return created
    except IntegrityError:
        pass
    out: list[Send] = []
    for row in rows:
        try:
            with transaction.atomic():
                row.pk = None
                row.save()
                outreach_interactions([row])
                out.append(row)
        except IntegrityError:
            continue
    return out


def engagement_run(*, now: dt.datetime | None = None) -> PassResult:
    """One scheduler pass as if at ``now`` (default: now): claim what is due, then send every
    claimed row. Idempotent: a second pass for the same moment claims and sends nothing new."""
    result = engagement_claim(now=now or timezone.now())
    delivered = sends_deliver()
    result.sent = delivered.sent
    result.failed = delivered.failed
    result.skipped_no_consent += delivered.skipped_no_consent
    return result


def engagement_claim(*, now: dt.datetime) -> PassResult:
    """Steps 1–4 of a pass: the send rows claimed (committed) but not sent yet."""
    result = PassResult()
    occasions_sync(today=now.astimezone(dt.UTC).date(), quick=True)
    due = candidates_due(now=now)
    result.due = len(due)
    customer_ids = sorted({c.customer.pk for c in due})
    channels = {ch for c in due for ch in c.rule.channels}
    consented = consent_in_force(customer_ids=customer_ids, channels=channels)
    known = addresses_of(customer_ids, channels)
    week = _week_counts(customer_ids, now)
    batch = uuid.uuid4().hex
    claims: list[Send] = []
    for c in due:
        if not may_send_at(c.rule, now.astimezone(zone(c.customer.time_zone))):
            result.skipped_quiet += 1
            continue
        found = route(c.rule, c.customer, consented, known)
        if found is None:
            result.skipped_no_consent += 1
            continue
        if week[c.customer.pk] >= c.rule.weekly_cap:
            result.skipped_cap += 1
            continue
        week[c.customer.pk] += 1
        channel, address = found
        locale, subject, text = message_for(
            rule=c.rule, customer=c.customer, occasion=c.occasion, event=c.event
        )
        claims.append(
            Send(
                rule=c.rule,
                customer=c.customer,
                occurrence=c.occurrence,
                channel=channel,
                address=address[:255],
                locale=locale or Locale.EN,
                subject=subject[:255],
                text=text,
                batch=batch,
                claimed_at=now,
            )
        )
    size = int(settings.KHOSHNUD_ENGAGEMENT_BATCH)
    for i in range(0, len(claims), size):
        _claim(claims[i : i + size])
    return result
