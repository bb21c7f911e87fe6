"""Customers: identities, personal dates in their calendars, consents, merge, API access."""

from __future__ import annotations

import pytest

from khoshnud.accounts.models import AuditLog
from khoshnud.customers.identities import IdentityError, normalize_identity
from khoshnud.customers.models import Customer, Identity
from khoshnud.customers.selectors import consents_current, customer_search
from khoshnud.customers.services import (
    CustomerInputError,
    consent_record,
    customer_create,
    customer_merge,
)
from khoshnud.interactions.services import events_ingest
from tests.conftest import event


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("email", " Sara.K@Example.COM ", "sara.k@example.com"),
        ("phone", "۰۹۱۲ ۳۴۵ ۶۷۸۹", "+989123456789"),
        ("phone", "٠٩١٢-٣٤٥-٦٧٨٩", "+989123456789"),
        ("phone", "0098 912 345 6789", "+989123456789"),
        ("phone", "+86 138 0013 8000", "+8613800138000"),
        ("telegram", "@Sara_K", "sara_k"),
        ("instagram", "@Flower.Shop_", "flower.shop_"),
    ],
)
def test_identity_normalisation(kind: str, raw: str, stored: str) -> None:
    assert normalize_identity(kind, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw"),
    [("email", "sara@"), ("phone", "0912"), ("phone", "abc"), ("telegram", "a b"), ("fax", "1")],
)
def test_bad_identities(kind: str, raw: str) -> None:
    with pytest.raises(IdentityError):
        normalize_identity(kind, raw)


@pytest.mark.django_db
def test_jalali_dates_are_checked_in_their_calendar() -> None:
    ok = customer_create(
        data={
            "first_name": "مریم",
            "locale": "fa",
            "identities": {"email": "m@example.com"},
            "personal_dates": [{"kind": "birthday", "calendar": "jalali", "date": "۱۴۰۳-۱۲-۳۰"}],
        }
    )
    date = ok.personal_dates.get()
    assert (date.calendar, date.year, date.month, date.day) == ("jalali", 1403, 12, 30)
    with pytest.raises(CustomerInputError, match="does not exist"):
        customer_create(
            data={
                "first_name": "X",
                "identities": {"email": "x@example.com"},
                "personal_dates": [{"calendar": "jalali", "date": "1402-12-30"}],
            }
        )
    # nothing half-stored: the customer with the impossible date does not exist
    assert not Identity.objects.filter(value="x@example.com").exists()
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_identity_is_unique_per_channel() -> None:
    customer_create(data={"first_name": "A", "identities": {"email": "a@example.com"}})
    with pytest.raises(CustomerInputError, match="already belongs"):
        customer_create(data={"first_name": "B", "identities": {"email": "A@example.com"}})
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_consent_history_latest_wins() -> None:
    import datetime as dt

    c = customer_create(data={"first_name": "A", "identities": {"email": "a@example.com"}})
    t1 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    consent_record(customer=c, channel="sms", granted=True, method="checkout", recorded_at=t1)
    consent_record(
        customer=c,
        channel="sms",
        granted=False,
        method="replied STOP",
        recorded_at=t1 + dt.timedelta(days=3),
    )
    consent_record(customer=c, channel="email", granted=True, method="web form", recorded_at=t1)
    current = {x.channel: (x.granted, x.method) for x in consents_current(customer=c)}
    assert current == {"sms": (False, "replied STOP"), "email": (True, "web form")}
    assert c.consents.count() == 3
    with pytest.raises(CustomerInputError, match="zone"):
        consent_record(
            customer=c, channel="sms", granted=True, method="x", recorded_at="2026-01-01T10:00:00"
        )


@pytest.mark.django_db
def test_search_by_name_email_and_phone_in_any_digits() -> None:
    sara = customer_create(
        data={
            "first_name": "سارا",
            "last_name": "کریمی",
            "locale": "fa",
            "identities": {"phone": "09123456789", "email": "sara@example.com"},
        }
    )
    wei = customer_create(
        data={
            "first_name": "伟",
            "last_name": "王",
            "locale": "zh-hans",
            "identities": {"phone": "+8613800138000"},
        }
    )

    def ids(q: str) -> list[int]:
        return list(customer_search(query=q).values_list("pk", flat=True))

    assert ids("كريمي") == [sara.pk]  # typed with Arabic letters ي/ك
    assert ids("۰۹۱۲ ۳۴۵ ۶۷۸۹") == [sara.pk]
    assert ids("٠٩١٢٣٤٥٦٧٨٩") == [sara.pk]
    assert ids("SARA@example") == [sara.pk]
    assert ids("王伟") == [wei.pk]
    assert ids("138 0013") == [wei.pk]
    assert ids("nobody") == []


@pytest.mark.django_db
def test_merge_moves_identities_history_and_is_audited(make_staff) -> None:  # type: ignore[no-untyped-def]
    manager = make_staff("m", "manager")
    a = customer_create(data={"first_name": "Sara", "identities": {"email": "sara@example.com"}})
    b = customer_create(
        data={"first_name": "", "tier": "key", "identities": {"telegram": "sara_k"}}
    )
    events_ingest(
        events=[
            event(external_id="1", customer={"id": a.pk}),
            event(external_id="2", customer={"id": b.pk}),
            event(external_id="3", customer={"id": b.pk}),
        ]
    )
    merged = customer_merge(target=a, source=b, actor=manager)
    assert set(merged.identities.values_list("kind", flat=True)) == {"email", "telegram"}
    assert merged.interactions.count() == 3
    assert merged.tier == "key"
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    log = AuditLog.objects.get(action="customer.merge")
    assert log.actor == manager
    assert log.data["moved"]["interactions"] == 2 and log.data["moved"]["identities"] == 1
    with pytest.raises(ValueError, match="itself"):
        customer_merge(target=a, source=a)
    assert list(customer_search(query="").values_list("pk", flat=True)) == [a.pk]


@pytest.mark.django_db
def test_customer_api_roles(api_client) -> None:  # type: ignore[no-untyped-def]
    agent, manager = api_client("agent"), api_client("manager")
    body = {
        "first_name": "Sara",
        "locale": "fa",
        "identities": {"email": "s@example.com"},
        "personal_dates": [{"kind": "birthday", "calendar": "jalali", "date": "1370-06-15"}],
        "consents": [{"channel": "sms", "granted": True, "method": "in-store form"}],
    }
    created = agent.post("/api/v1/customers", body, content_type="application/json")
    assert created.status_code == 201, created.content
    a = created.json()
    assert a["calendar"] == "jalali" and a["personal_dates"][0]["date"] == "1370-06-15"
    assert a["consents"][0]["channel"] == "sms"
    other = agent.post(
        "/api/v1/customers",
        {"first_name": "Dup", "identities": {"telegram": "dup_1"}},
        content_type="application/json",
    ).json()
    url = f"/api/v1/customers/{a['id']}/merge"
    denied = agent.post(url, {"source_id": other["id"]}, content_type="application/json")
    assert denied.status_code == 403 and "manager" in denied.json()["detail"]
    ok = manager.post(url, {"source_id": other["id"]}, content_type="application/json")
    assert ok.status_code == 200
    assert {i["kind"] for i in ok.json()["identities"]} == {"email", "telegram"}
    # The merged id still resolves, to the survivor.
    assert agent.get(f"/api/v1/customers/{other['id']}").json()["id"] == a["id"]
    bad = agent.patch(
        f"/api/v1/customers/{a['id']}",
        {"personal_dates": [{"calendar": "jalali", "date": "1402-12-30"}]},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "does not exist" in bad.json()["detail"]
    listed = agent.get("/api/v1/customers", {"q": "s@example"}).json()
    assert listed["count"] == 1 and listed["items"][0]["first_name"] == "Sara"
    assert api_client("agent", "write").get("/api/v1/customers").status_code == 403


@pytest.mark.django_db
def test_update_is_all_or_nothing(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    c = customer_create(data={"first_name": "Sara", "identities": {"email": "s@example.com"}})
    body = {"first_name": "Sarah", "tier": "key",
            "consents": [{"channel": "carrier-pigeon", "granted": True, "method": "x"}]}  # fmt: skip
    response = client.patch(f"/api/v1/customers/{c.pk}", body, content_type="application/json")
    assert response.status_code == 422 and "consent.channel" in response.json()["detail"]
    c.refresh_from_db()
    assert (c.first_name, c.tier) == ("Sara", "standard")
    assert c.consents.count() == 0
    ok = client.patch(f"/api/v1/customers/{c.pk}", {"first_name": "Sarah", "tier": "key"},
                      content_type="application/json")  # fmt: skip
    assert ok.status_code == 200 and ok.json()["tier"] == "key"
    assert AuditLog.objects.get(action="customer.update").data["changed"] == ["first_name", "tier"]
