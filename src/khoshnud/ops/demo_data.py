"""The demo business: a coffee-equipment shop (seed 001's example), deterministic.

About 2,000 customers with Persian, Chinese and English names, a product catalogue, orders and
six months of interactions on every channel. Customers, consents and interactions go through
the real services; orders and each customer's "customer since" are written directly (the demo
backdates them: a customer joined before their first order or message, and nothing is dated
after the moment the demo is built).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from khoshnud.calendars import Calendar, from_gregorian
from khoshnud.cases.assignment import agent_profile_update
from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.customers.models import Customer, Locale
from khoshnud.customers.services import consent_record, customer_create
from khoshnud.engagement.services import rule_create
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest
from khoshnud.ops.demo_content import (
    APPOINTMENT_TEXT,
    CHANNEL_BY_LOCALE,
    CONSENT_METHODS,
    EN_FIRST,
    EN_LAST,
    FA_FIRST,
    FA_FIRST_LATIN,
    FA_LAST,
    FA_LAST_LATIN,
    IR_MOBILE,
    MESSAGES,
    PRODUCTS,
    REPLIES,
    SURVEY_COMMENTS,
    SURVEY_TEXTS,
    TIERS,
    UK_MOBILE,
    ZH_GIVEN,
    ZH_GIVEN_LATIN,
    ZH_SURNAME,
    ZH_SURNAME_LATIN,
)
from khoshnud.ops.demo_history import demo_history
from khoshnud.servicelevels.selectors import calendar_by_name
from khoshnud.servicelevels.services import calendar_create, service_level_set

SOURCE = "demo"
SEED = 1405
REPLY_WITHIN_MINUTES = 600  # a reply comes 5 minutes to 10 hours after the message


def demo_exists() -> bool:
    return Interaction.objects.filter(source=SOURCE).exists()


def _person(rng: random.Random, locale: str, n: int) -> dict[str, Any]:
    if locale == "fa":
        i, j = rng.randrange(len(FA_FIRST)), rng.randrange(len(FA_LAST))
        first, last, latin = FA_FIRST[i], FA_LAST[j], f"{FA_FIRST_LATIN[i]}.{FA_LAST_LATIN[j]}"
        phone = f"+98 {rng.choice(IR_MOBILE)} {rng.randrange(100, 999)}{n:04d}"
        tz = "Asia/Tehran"
    elif locale == "zh-hans":
        i, j = rng.randrange(len(ZH_SURNAME)), rng.randrange(len(ZH_GIVEN))
        first, last = ZH_GIVEN[j], ZH_SURNAME[i]
        latin = f"{ZH_GIVEN_LATIN[j]}.{ZH_SURNAME_LATIN[i]}"
        phone = f"+86 13{rng.randrange(10)} {rng.randrange(1000, 9999)} {n:04d}"
        tz = "Asia/Shanghai"
    else:
        first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
        latin = f"{first}.{last}".lower()
        phone = f"+44 {rng.choice(UK_MOBILE)} {rng.randrange(10, 99)}{n:04d}"
        tz = rng.choice(["Europe/London", "America/New_York", "America/Toronto"])
    domain = rng.choice(["example.com", "example.org", "mail.example.net"])
    identities: dict[str, Any] = {"email": f"{latin}{n}@{domain}", "phone": phone}
    if locale == "fa" and rng.random() < 0.5:
        identities["telegram"] = f"{latin.replace('.', '_')}{n}"
    if rng.random() < 0.3:
        identities["instagram"] = f"{latin.replace('.', '_')}.{n}"
    if locale == "zh-hans" and rng.random() < 0.6:
        identities["wechat"] = f"wx_{latin.replace('.', '')}{n}"
    return {
        "first_name": first,
        "last_name": last,
        "locale": locale,
        "time_zone": tz,
        "identities": identities,
    }


def _personal_dates(rng: random.Random, locale: str, today: dt.date) -> tuple[str, list[dict]]:
    calendar = {"fa": Calendar.JALALI, "zh-hans": Calendar.GREGORIAN}.get(
        locale, Calendar.GREGORIAN
    )
    born = today - dt.timedelta(days=rng.randrange(19 * 365, 65 * 365))
    dates = []
    birthday_calendar = calendar
    if locale == "zh-hans" and rng.random() < 0.4:
        birthday_calendar = Calendar.CHINESE  # many Chinese families keep the lunar birthday
    b = from_gregorian(born, birthday_calendar)
    dates.append(
        {
            "kind": "birthday",
            "calendar": birthday_calendar,
            "date": f"{b.year:04d}-{b.month:02d}-{b.day:02d}",
            "leap_month": b.leap_month,
        }
    )
    if rng.random() < 0.35:
        wed = today - dt.timedelta(days=rng.randrange(365, 25 * 365))
        w = from_gregorian(wed, calendar)
        dates.append(
            {
                "kind": "wedding_anniversary",
                "calendar": calendar,
                "date": f"{w.year:04d}-{w.month:02d}-{w.day:02d}",
            }
        )
    return calendar, dates


def build_demo(
    *, customers: int = 2000, months: int = 6, progress: Callable[[str], None] = lambda _m: None
) -> dict[str, int]:
    """Create the demo business once (idempotent: returns zeros when it already exists)."""
    if demo_exists():
        return {"customers": 0, "orders": 0, "interactions": 0}
    rng = random.Random(SEED)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    today = now.date()
    start = now - dt.timedelta(days=30 * months)
    staff = list(
        User.objects.filter(is_active=True).order_by("id").values_list("username", flat=True)
    )

    with transaction.atomic():
        products = [
            Product.objects.get_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "category": cat,
                    "tags": tags,
                    "price": Decimal(price),
                    "currency": "USD",
                    "support_days": days,
                },
            )[0]
            for sku, name, cat, tags, price, days in PRODUCTS
        ]
    progress(f"{len(products)} products")
    demo_service_catalog()
    progress(f"{demo_routing()} agents routed")

    people: list[tuple[Customer, str]] = []
    with transaction.atomic():
        for n in range(customers):
            locale = rng.choices(["fa", "zh-hans", "en"], weights=[50, 25, 25])[0]
            data = _person(rng, locale, n)
            calendar, dates = _personal_dates(rng, locale, today)
            data.update(calendar=calendar, personal_dates=dates, tier=rng.choice(TIERS))
            if rng.random() < 0.2:
                data["attributes"] = {"favourite_roast": rng.choice(["light", "medium", "dark"])}
            customer = customer_create(data=data)
            # Customers joined before the demo's six months of orders and messages began.
            since = start - dt.timedelta(days=rng.randrange(1, 3 * 365), hours=rng.randrange(24))
            Customer.objects.filter(pk=customer.pk).update(created_at=since)
            customer.created_at = since
            for channel in ("email", "sms"):
                if rng.random() < 0.7:
                    consent_record(
                        customer=customer,
                        channel=channel,
                        granted=rng.random() < 0.85,
                        method=rng.choice(CONSENT_METHODS[locale[:2]]),
                        recorded_at=start + dt.timedelta(hours=rng.randrange(24 * 30)),
                    )
            people.append((customer, locale))
    progress(f"{len(people)} customers")

    events: list[dict[str, Any]] = []
    order_count = 0
    with transaction.atomic():
        for customer, locale in people:
            lang = locale[:2]
            n_orders = rng.choices([0, 1, 2, 3, 4], weights=[20, 40, 22, 12, 6])[0]
            for _ in range(n_orders):
                placed = start + dt.timedelta(hours=rng.randrange(24 * 30 * months))
                order = Order.objects.create(
                    customer=customer,
                    number=f"D-{10000 + order_count}",
                    placed_at=placed,
                    currency="USD",
                    total=Decimal(0),
                    channel=rng.choice(["web", "in_person", "phone"]),
                )
                order_count += 1
                total = Decimal(0)
                for product in rng.sample(products, rng.choice([1, 1, 2, 3])):
                    qty = rng.choice([1, 1, 1, 2])
                    OrderLine.objects.create(
                        order=order, product=product, quantity=qty, unit_price=product.price
                    )
                    total += product.price * qty
                order.total = total
                order.save(update_fields=["total"])
                events.append(
                    _event(
                        customer,
                        f"purchase-{order.number}",
                        "web",
                        "outbound",
                        "purchase",
                        "purchase",
                        placed,
                        f"Order {order.number}: {total} USD",
                        {"order": order.number},
                    )
                )
            # Messages end early enough that their replies are not dated in the future.
            span = 60 * 24 * 30 * months - REPLY_WITHIN_MINUTES
            for k in range(rng.choice([3, 5, 8, 12, 18])):
                when = start + dt.timedelta(minutes=rng.randrange(span))
                channel = rng.choice(CHANNEL_BY_LOCALE[lang])
                text, need = rng.choice(MESSAGES[lang])
                kind = {"phone": "call", "in_person": "visit", "review": "review"}.get(
                    channel, "message"
                )
                stage = {
                    "service": "service",
                    "support": "service",
                    "care": "after_purchase",
                    "other": "first_contact",
                }[need]
                events.append(
                    _event(
                        customer,
                        f"c{customer.pk}-{k}",
                        channel,
                        "inbound",
                        kind,
                        stage,
                        when,
                        text,
                        {},
                    )
                )
                if need != "other" and rng.random() < 0.7:
                    events.append(
                        _event(
                            customer,
                            f"c{customer.pk}-{k}-r",
                            channel,
                            "outbound",
                            "message" if kind != "call" else "call",
                            stage,
                            when + dt.timedelta(minutes=rng.randrange(5, REPLY_WITHIN_MINUTES)),
                            rng.choice(REPLIES[lang]),
                            {},
                            rng.choice(staff) if staff else None,
                        )
                    )
            if rng.random() < 0.1:
                when = start + dt.timedelta(days=rng.randrange(30 * months))
                events.append(
                    _event(
                        customer,
                        f"c{customer.pk}-appt",
                        "phone",
                        "outbound",
                        "appointment",
                        "service",
                        when,
                        APPOINTMENT_TEXT[lang],
                        {"visit": "home"},
                    )
                )
        progress(f"{order_count} orders")
        stored = 0
        for i in range(0, len(events), 1000):
            results = events_ingest(events=events[i : i + 1000])
            stored += sum(r.status == "created" for r in results)
    progress(f"{stored} interactions")
    answers = demo_feedback(people=people, start=start, now=now, staff=staff)
    progress(f"{answers} survey answers")
    # The pipeline's cases, worked by the demo's team over the months (ops/demo_history.py).
    history = demo_history(source=SOURCE, seed=SEED + 20, now=now, progress=progress)
    # Each answer is an interaction too (a "survey answer" on the customer's timeline), and so
    # are the history's replies and answers about cases.
    return {"customers": len(people), "orders": order_count,
            "interactions": Interaction.objects.filter(source=SOURCE).count(),
            "survey_answers": answers, "cases": history["cases"],
            "resolved": history.get("resolved", 0)}  # fmt: skip


def demo_feedback(
    *, people: list[tuple[Customer, str]], start: dt.datetime, now: dt.datetime, staff: list[str]
) -> int:
    """The demo surveys (after a case, after a purchase, a relationship NPS kept inactive so
    the demo does not email 2,000 customers) and about one answer per five customers, spread
    over the months, brought in like another tool's history (``"type": "survey_answer"``
    events): the metrics, agent ratings and recent care follow-ups have something to show."""
    from khoshnud.feedback.surveys import survey_create

    texts = SURVEY_TEXTS
    titles = {"en": "How did we do?", "fa": "کار ما چطور بود؟", "zh-hans": "我们做得怎么样？"}
    with transaction.atomic():
        survey_create(name="After a case (CSAT)", trigger="case_resolved", delay_hours=2,
                      titles=titles, questions=[{"kind": "csat", "texts": texts["csat"],
                                                 "comment_texts": texts["why"]}])  # fmt: skip
        survey_create(name="After a purchase (CES)", trigger="purchase", delay_days=7,
                      titles=titles, questions=[{"kind": "ces", "texts": texts["ces"]}])  # fmt: skip
        survey_create(name="Relationship NPS", trigger="periodic", period_days=90, active=False,
                      titles=titles, questions=[{"kind": "nps", "texts": texts["nps"],
                                                 "comment_texts": texts["why"]}])  # fmt: skip
    rng = random.Random(SEED + 10)  # its own sequence: the rest of the demo stays as it was
    weights = {"nps": [3, 1, 1, 2, 2, 4, 6, 10, 14, 22, 20], "csat": [5, 5, 10, 30, 40],
               "ces": [3, 4, 6, 10, 20, 30, 27]}  # fmt: skip
    agents = [u for u in staff if u in DEMO_ROUTING] or staff
    # What each customer bought (oldest first): a CSAT or CES answer names the product of
    # their latest order before it — no draw from ``rng``, so the demo's numbers stay as they were.
    bought: dict[int, list[tuple[dt.datetime, str]]] = {}
    for customer_id, placed_at, sku in (
        OrderLine.objects.order_by("order__placed_at", "order_id", "id")
        .values_list("order__customer_id", "order__placed_at", "product__sku")
    ):  # fmt: skip
        bought.setdefault(customer_id, []).append((placed_at, sku))
    events: list[dict[str, Any]] = []
    span = int((now - start).total_seconds() // 60) - 1
    for customer, locale in people:
        if rng.random() >= 0.2:
            continue
        for k in range(rng.choice([1, 1, 2])):
            kind = rng.choice(["nps", "csat", "csat", "ces"])
            low, high = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[kind]
            score = rng.choices(range(low, high + 1), weights=weights[kind])[0]
            mood = "bad" if score <= {"nps": 6, "csat": 2, "ces": 3}[kind] else "good"
            survey: dict[str, Any] = {"kind": kind, "score": score,
                                      "comment": rng.choice(SURVEY_COMMENTS[locale[:2]][mood])}  # fmt: skip
            if kind == "csat" and agents:
                survey["agent"] = rng.choice(agents)
            when = start + dt.timedelta(minutes=rng.randrange(span))
            earlier = [sku for placed_at, sku in bought.get(customer.pk, []) if placed_at < when]
            if kind in ("csat", "ces") and earlier:
                survey["product"] = earlier[-1]
            event = _event(customer, f"c{customer.pk}-survey-{k}", rng.choice(["email", "web"]),
                           "inbound", "survey_answer", "service", when, "", {})  # fmt: skip
            event["survey"] = survey
            events.append(event)
    stored = 0
    for i in range(0, len(events), 1000):
        results = events_ingest(events=events[i : i + 1000])
        stored += sum(r.status == "created" for r in results)
    return stored


# Who routing gives the demo's new cases to (docs/routing.md): username → (kinds, languages,
# cap; None: the default). The manager maryam takes no routed cases.
DEMO_ROUTING: dict[str, tuple[list[str], list[str], int | None]] = {
    "sara": (["care"], ["fa", "en"], 25),
    "wei": (["support"], ["zh-hans", "en"], None),
    "james": (["service", "support"], [], 30),
}


def demo_routing() -> int:
    """Give the demo agents who exist their routing profiles (through the routing service, as
    the first admin); returns how many. Run before the messages arrive, so that routing
    assigns their cases up to each agent's cap and leaves the rest in the teams' queues."""
    actor = User.objects.filter(is_active=True, is_superuser=True).order_by("id").first()
    if actor is None:
        return 0
    done = 0
    for user in User.objects.filter(
        username__in=DEMO_ROUTING, is_active=True, teams__isnull=False
    ).distinct():
        kinds, languages, cap = DEMO_ROUTING[user.username]
        agent_profile_update(
            user_id=user.pk, kinds=kinds, languages=languages, max_open_cases=cap, actor=actor
        )
        done += 1
    return done


# The shop's promises (business minutes on the "Tehran shop" calendar): kind → tier →
# (first response, resolution); live chat answers service questions faster.
DEMO_TARGETS = {
    "service": {"standard": (240, 960), "loyal": (120, 720), "key": (60, 480)},
    "support": {"standard": (120, 480), "loyal": (90, 360), "key": (60, 240)},
    "care": {"standard": (60, 960), "loyal": (45, 720), "key": (30, 480)},
}
DEMO_CHAT_TARGETS = {"standard": (15, 480), "loyal": (10, 360), "key": (5, 240)}


def demo_service_catalog() -> None:
    """The calendar "Tehran shop" and its service catalog (idempotent)."""
    if calendar_by_name(name="Tehran shop") is not None:
        return
    week = ["saturday", "sunday", "monday", "tuesday", "wednesday"]
    with transaction.atomic():
        calendar = calendar_create(
            name="Tehran shop",
            time_zone="Asia/Tehran",
            hours=[{"weekday": d, "start": "08:00", "end": "16:00"} for d in week]
            + [{"weekday": "thursday", "start": "08:00", "end": "12:00"}],
            holidays=[
                {"name": "Nowruz", "calendar": Calendar.JALALI, "date": f"01-0{day}"}
                for day in (1, 2, 3, 4)
            ]
            + [
                {"name": "Sizdah Bedar", "calendar": Calendar.JALALI, "date": "01-13"},
            ],
        )
        for kind, tiers in DEMO_TARGETS.items():
            for tier, (first, resolution) in tiers.items():
                service_level_set(
                    kind=kind,
                    tier=tier,
                    calendar=calendar,
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                )
        for tier, (first, resolution) in DEMO_CHAT_TARGETS.items():
            service_level_set(
                kind="service",
                tier=tier,
                channel="chat",
                calendar=calendar,
                first_response_minutes=first,
                resolution_minutes=resolution,
            )


def _event(
    customer: Customer,
    uid: str,
    channel: str,
    direction: str,
    kind: str,
    stage: str,
    when: dt.datetime,
    text: str,
    metadata: dict[str, Any],
    staff: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "source": SOURCE,
        "external_id": uid,
        "channel": channel,
        "direction": direction,
        "type": kind,
        "stage": stage,
        "occurred_at": when.isoformat(),
        "text": text,
        "metadata": metadata,
        "customer": {"id": customer.pk},
    }
    if staff and direction == "outbound":
        event["staff"] = staff
    return event


__all__ = ["Locale", "build_demo", "demo_exists", "demo_service_catalog"]


# Outreach (docs/engagement.md): a birthday rule and customers whose birthdays are tomorrow
# (greeted today, one day ahead) and the day after (greeted tomorrow), in three calendars.
DEMO_BIRTHDAYS = [
    ("نگار", "رضایی", "fa", "Asia/Tehran", Calendar.JALALI, 1),
    ("Lei", "Zhang", "zh-hans", "Asia/Shanghai", Calendar.CHINESE, 1),
    ("Emma", "Wilson", "en", "Europe/London", Calendar.GREGORIAN, 1),
    ("مهسا", "کاظمی", "fa", "Asia/Tehran", Calendar.JALALI, 2),
    ("静", "李", "zh-hans", "Asia/Shanghai", Calendar.CHINESE, 2),
]


def demo_outreach(*, today: dt.date) -> int:
    """The demo's birthday rule (one day ahead, 09:00–20:00 in the customer's time, email
    then SMS) and five customers with birthdays tomorrow and the day after."""
    rule_create(
        data={
            "name": "Birthday greeting",
            "kind": "occasion",
            "occasion": "birthday",
            "lead_days": 1,
            "channels": ["email", "sms"],
            "send_window": ["09:00", "20:00"],
            "quiet_hours": ["13:00", "14:00"],
            "offer_code": "BDAY-15",
            "products": "Espresso beans (dark roast)",
            "templates": {
                "fa": {
                    "subject": "{{ first_name }} عزیز، تولدت پیشاپیش مبارک!",
                    "body": "سلام {{ first_name }} عزیز،\n\nفردا {{ occasion_date }} روز "
                    "تولد شماست. با کد {{ offer_code }} یک هدیه از ما بگیرید: {{ products }}.",
                },
                "zh-hans": {
                    "subject": "{{ first_name }}，提前祝您生日快乐！",
                    "body": "{{ first_name }}您好：\n\n明天（{{ occasion_date }}）是您的生日。"
                    "凭优惠码 {{ offer_code }} 领取我们的礼物：{{ products }}。",
                },
                "en": {
                    "subject": "Happy birthday for tomorrow, {{ first_name }}!",
                    "body": "Hello {{ first_name }},\n\nTomorrow ({{ occasion_date }}) is your "
                    "birthday. Use {{ offer_code }} for a gift from us: {{ products }}.",
                },
            },
        }
    )
    for n, (first, last, locale, zone, calendar, ahead) in enumerate(DEMO_BIRTHDAYS):
        day = from_gregorian(today + dt.timedelta(days=ahead), calendar)
        # Without a year (a lunar leap month needs its year to be checked).
        date = f"{day.month:02d}-{day.day:02d}"
        if day.leap_month:
            date = f"{day.year}-{date}"
        customer_create(
            data={
                "first_name": first,
                "last_name": last,
                "locale": locale,
                "time_zone": zone,
                "calendar": Calendar.GREGORIAN if calendar == Calendar.CHINESE else calendar,
                "identities": {"email": f"birthday{n + 1}@example.com"},
                "personal_dates": [
                    {
                        "kind": "birthday",
                        "calendar": calendar,
                        "date": date,
                        "leap_month": day.leap_month,
                    }
                ],
                "consents": [
                    {"channel": "email", "granted": True, "method": CONSENT_METHODS[locale[:2]][0]}
                ],
            }
        )
    return len(DEMO_BIRTHDAYS)
