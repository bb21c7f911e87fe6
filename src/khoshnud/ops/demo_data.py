"""The demo business: a coffee-equipment shop (seed 001's example), deterministic.

About 2,000 customers with Persian, Chinese and English names, a product catalogue, orders and
six months of interactions on every channel, all written through the real services.
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
from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.customers.models import Customer, Locale
from khoshnud.customers.services import consent_record, customer_create
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest

SOURCE = "demo"
SEED = 1405

FA_FIRST = [
    "سارا",
    "مریم",
    "زهرا",
    "فاطمه",
    "نگار",
    "الهام",
    "شیرین",
    "لیلا",
    "نازنین",
    "پریسا",
    "مهسا",
    "آزاده",
    "رویا",
    "ترانه",
    "ستاره",
    "یاسمن",
    "هانیه",
    "ریحانه",
    "محمد",
    "علی",
    "رضا",
    "حسین",
    "مهدی",
    "امیر",
    "حمید",
    "سعید",
    "مجید",
    "بهرام",
    "کاوه",
    "آرش",
    "پویا",
    "سینا",
    "فرهاد",
    "بابک",
    "کیوان",
    "نیما",
]
FA_FIRST_LATIN = [
    "sara",
    "maryam",
    "zahra",
    "fatemeh",
    "negar",
    "elham",
    "shirin",
    "leila",
    "nazanin",
    "parisa",
    "mahsa",
    "azadeh",
    "roya",
    "taraneh",
    "setareh",
    "yasaman",
    "hanieh",
    "reyhaneh",
    "mohammad",
    "ali",
    "reza",
    "hossein",
    "mahdi",
    "amir",
    "hamid",
    "saeed",
    "majid",
    "bahram",
    "kaveh",
    "arash",
    "pouya",
    "sina",
    "farhad",
    "babak",
    "keyvan",
    "nima",
]
FA_LAST = [
    "احمدی",
    "محمدی",
    "حسینی",
    "رضایی",
    "کریمی",
    "موسوی",
    "جعفری",
    "صادقی",
    "رحیمی",
    "نوری",
    "کاظمی",
    "هاشمی",
    "قاسمی",
    "عباسی",
    "سلطانی",
    "طاهری",
    "شریفی",
    "توکلی",
    "مرادی",
    "یزدانی",
]
FA_LAST_LATIN = [
    "ahmadi",
    "mohammadi",
    "hosseini",
    "rezaei",
    "karimi",
    "mousavi",
    "jafari",
    "sadeghi",
    "rahimi",
    "nouri",
    "kazemi",
    "hashemi",
    "ghasemi",
    "abbasi",
    "soltani",
    "taheri",
    "sharifi",
    "tavakoli",
    "moradi",
    "yazdani",
]
ZH_SURNAME = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "高",
    "罗",
]
ZH_SURNAME_LATIN = [
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "lin",
    "gao",
    "luo",
]
ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "晓明",
    "雨轩",
    "子涵",
    "浩然",
    "欣怡",
    "梓萱",
    "宇航",
    "思远",
]
ZH_GIVEN_LATIN = [
    "wei",
    "fang",
    "na",
    "min",
    "jing",
    "li",
    "qiang",
    "lei",
    "yang",
    "yan",
    "yong",
    "jun",
    "jie",
    "juan",
    "tao",
    "ming",
    "chao",
    "xiuying",
    "xiaoming",
    "yuxuan",
    "zihan",
    "haoran",
    "xinyi",
    "zixuan",
    "yuhang",
    "siyuan",
]
EN_FIRST = [
    "Emma",
    "Olivia",
    "Ava",
    "Sophia",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Grace",
    "Chloe",
    "Lucy",
    "Hannah",
    "Liam",
    "Noah",
    "Oliver",
    "James",
    "Elijah",
    "William",
    "Henry",
    "Lucas",
    "Benjamin",
    "Jack",
    "Daniel",
    "Samuel",
    "David",
    "Thomas",
    "Oscar",
    "Leo",
]
EN_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clark",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Carter",
    "Mitchell",
    "Turner",
    "Parker",
    "Evans",
]

PRODUCTS = [
    # sku, name, category, tags, price (USD), support days
    ("GR-100", "Baratza Encore burr grinder", "grinders", ["grinder", "filter"], "169.00", 365),
    ("GR-200", "Comandante C40 hand grinder", "grinders", ["grinder", "manual"], "285.00", 365),
    ("GR-300", "Eureka Mignon Silenzio", "grinders", ["grinder", "espresso"], "429.00", 730),
    ("GR-400", "Fellow Ode Gen 2", "grinders", ["grinder", "filter"], "345.00", 365),
    ("ES-100", "Gaggia Classic Pro", "espresso machines", ["espresso", "machine"], "449.00", 730),
    ("ES-200", "Breville Bambino Plus", "espresso machines", ["espresso", "milk"], "499.00", 730),
    (
        "ES-300",
        "Rancilio Silvia Pro X",
        "espresso machines",
        ["espresso", "dual-boiler"],
        "1990.00",
        1095,
    ),
    (
        "ES-400",
        "La Marzocco Linea Micra",
        "espresso machines",
        ["espresso", "premium"],
        "4200.00",
        1095,
    ),
    ("BR-100", "Hario V60 pour-over kit", "brewers", ["filter", "pour-over"], "39.00", 90),
    ("BR-200", "Chemex 6-cup", "brewers", ["filter", "pour-over"], "49.00", 90),
    ("BR-300", "AeroPress Original", "brewers", ["travel", "immersion"], "39.95", 90),
    ("BR-400", "Moka pot Bialetti 6 cup", "brewers", ["stovetop"], "44.00", 90),
    (
        "BE-100",
        "Ethiopia Yirgacheffe 250 g",
        "beans",
        ["beans", "light-roast", "fruity"],
        "16.50",
        0,
    ),
    ("BE-200", "Colombia Huila 250 g", "beans", ["beans", "medium-roast"], "14.00", 0),
    ("BE-300", "Brazil Santos 1 kg", "beans", ["beans", "dark-roast", "espresso"], "32.00", 0),
    ("BE-400", "Yunnan Pu'er region arabica 250 g", "beans", ["beans", "medium-roast"], "18.00", 0),
    ("BE-500", "Decaf Sumatra 250 g", "beans", ["beans", "decaf"], "15.00", 0),
    ("AC-100", "Acaia Pearl scale", "accessories", ["scale"], "155.00", 365),
    ("AC-200", "Fellow Stagg EKG kettle", "accessories", ["kettle"], "165.00", 365),
    ("AC-300", "Milk pitcher 600 ml", "accessories", ["milk"], "24.00", 0),
    ("AC-400", "Tamper 58 mm", "accessories", ["espresso"], "35.00", 0),
    ("AC-500", "Descaling kit", "accessories", ["maintenance"], "19.00", 0),
    ("AC-600", "Paper filters V60 (100)", "accessories", ["filter"], "7.50", 0),
    ("SV-100", "Home barista course (2 h)", "services", ["course"], "60.00", 0),
    (
        "SV-200",
        "Espresso machine annual service",
        "services",
        ["maintenance", "visit"],
        "120.00",
        30,
    ),
]

MESSAGES: dict[str, list[tuple[str, str]]] = {
    "fa": [
        ("سلام وقت بخیر، سفارشم هنوز نرسیده. کی ارسال میشه؟", "service"),
        ("آسیاب انکور رو برای قهوه دمی پیشنهاد میکنید یا ادی؟", "service"),
        ("ببخشید هزینه ارسال به شیراز چقدره؟", "service"),
        ("دستگاه اسپرسو ساز از دیروز روشن نمیشه، چراغش چشمک میزنه", "support"),
        ("آسیاب صدای عجیبی میده و قهوه رو یکدست آسیاب نمیکنه", "support"),
        ("فشارسنج دستگاه روی ۹ بار نمیره، چیکار کنم؟", "support"),
        ("خیلی ناراحتم، بسته شکسته رسید و کسی جواب نمیده!", "care"),
        ("سه بار تماس گرفتم هیچکس پیگیری نکرد. میخوام پولم رو پس بگیرم", "care"),
        ("از آقای کریمی بابت راهنمایی عالیشون ممنونم، واقعا خشنود شدم 🌹", "care"),
        ("سلام", "other"),
        ("تخفیف ویژه برای خرید عمده لوازم اداری! تماس بگیرید", "other"),
    ],
    "zh": [
        ("亲，我的订单什么时候发货呀？", "service"),
        ("请问这款磨豆机适合做手冲吗？", "service"),
        ("你们周末门店几点开门？", "service"),
        ("咖啡机开机后一直闪红灯，没法用了", "support"),
        ("磨豆机突然不转了，有异响，怎么处理？", "support"),
        ("蒸汽棒不出蒸汽，已经清洗过了还是不行", "support"),
        ("收到的货是坏的，客服也不回复，太失望了！", "care"),
        ("等了两周还没解决，我要退款", "care"),
        ("感谢小王的耐心讲解，服务太好了，好评！", "care"),
        ("在吗", "other"),
        ("新年快乐！祝生意兴隆🎉", "other"),
    ],
    "en": [
        ("Hi, when will my order ship? It's been 3 days.", "service"),
        ("Is the Encore good enough for espresso or should I get the Mignon?", "service"),
        ("do you deliver to Manchester and how much is shipping", "service"),
        ("My Gaggia won't heat up anymore, the light just blinks.", "support"),
        ("grinder makes a loud clicking noise and the grind is uneven", "support"),
        ("The scale won't pair with the app after the update", "support"),
        ("Package arrived smashed and nobody answers my emails. Really disappointed.", "care"),
        ("This is the third time I'm asking for a refund. Unacceptable.", "care"),
        ("Just wanted to say Daniel was fantastic on the phone, thank you!", "care"),
        ("hello", "other"),
        ("We offer SEO services for your website, reply for a free audit", "other"),
    ],
}
REPLIES = {
    "fa": [
        "سلام، پیگیری کردیم و سفارش شما امروز ارسال میشه.",
        "ممنون از صبرتون، همکار پشتیبانی تماس میگیره.",
        "عذرخواهی میکنیم؛ کالای جایگزین فرستاده شد.",
    ],
    "zh": [
        "您好，已为您查询，订单今天发出。",
        "技术同事会尽快联系您。",
        "非常抱歉，我们已为您安排换货。",
    ],
    "en": [
        "Hi! Your order ships today, tracking to follow.",
        "Our support team will call you shortly.",
        "So sorry about that, a replacement is on its way.",
    ],
}
CHANNEL_BY_LOCALE = {
    "fa": [
        "telegram",
        "instagram",
        "phone",
        "sms",
        "web",
        "chat",
        "in_person",
        "email",
        "whatsapp",
    ],
    "zh": ["wechat", "chat", "phone", "email", "web", "in_person", "review", "sms"],
    "en": ["email", "chat", "phone", "web", "review", "portal", "sms", "in_person", "fax"],
}
UK_MOBILE = ["7400", "7401", "7424", "7723", "7912"]
IR_MOBILE = ["912", "913", "915", "917", "919", "901", "935", "936", "939", "990"]
TIERS = ["standard"] * 70 + ["loyal"] * 22 + ["key"] * 8


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
            for channel in ("email", "sms"):
                if rng.random() < 0.7:
                    consent_record(
                        customer=customer,
                        channel=channel,
                        granted=rng.random() < 0.85,
                        method=rng.choice(
                            ["checkout checkbox", "in-store form", "phone call", "web preferences"]
                        ),
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
            for k in range(rng.choice([3, 5, 8, 12, 18])):
                when = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 30 * months))
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
                            when + dt.timedelta(minutes=rng.randrange(5, 600)),
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
                        "Espresso machine service visit booked",
                        {"visit": "home"},
                    )
                )
        progress(f"{order_count} orders")
        stored = 0
        for i in range(0, len(events), 1000):
            results = events_ingest(events=events[i : i + 1000])
            stored += sum(r.status == "created" for r in results)
    progress(f"{stored} interactions")
    return {"customers": len(people), "orders": order_count, "interactions": stored}


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


__all__ = ["Locale", "build_demo", "demo_exists"]
