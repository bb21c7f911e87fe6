"""Service catalog: calendars and entries through the services and the API; bad input refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from khoshnud.accounts.models import AuditLog
from khoshnud.inputs import InputError
from khoshnud.ops.demo_data import demo_service_catalog
from khoshnud.servicelevels.models import BusinessCalendar, Holiday, ServiceLevel, WorkingHours
from khoshnud.servicelevels.selectors import calendar_by_name, service_catalog, service_level_for
from khoshnud.servicelevels.services import calendar_create, service_level_set

pytestmark = pytest.mark.django_db

HOURS = [{"weekday": "saturday", "start": "08:00", "end": "16:00"}]


def calendar_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Shanghai office",
        "time_zone": "Asia/Shanghai",
        "hours": [
            {"weekday": d, "start": "09:00", "end": "12:00"} for d in range(5)
        ] + [{"weekday": d, "start": "13:00", "end": "18:00"} for d in range(5)],
        "holidays": [{"name": "Spring Festival", "calendar": "chinese", "date": "01-01"},
                     {"name": "National Day", "calendar": "gregorian", "date": "10-01"}],
    }  # fmt: skip
    body.update(overrides)
    return body


def test_demo_calendar_and_catalog() -> None:
    demo_service_catalog()
    demo_service_catalog()  # idempotent
    calendar = calendar_by_name(name="Tehran shop")
    assert calendar is not None and calendar.time_zone == "Asia/Tehran"
    hours = sorted(calendar.hours.values_list("weekday", "start_minute", "end_minute"))
    assert hours == [
        (0, 480, 960),
        (1, 480, 960),
        (2, 480, 960),
        (3, 480, 720),
        (5, 480, 960),
        (6, 480, 960),
    ]  # fmt: skip  (no Friday = 4)
    nowruz = sorted(
        calendar.holidays.filter(name="Nowruz").values_list("date_calendar", "month", "day")
    )
    assert nowruz == [("jalali", 1, 1), ("jalali", 1, 2), ("jalali", 1, 3), ("jalali", 1, 4)]
    entry = service_level_for(kind="support", tier="standard", channel="phone")
    assert entry is not None
    assert (entry.first_response_minutes, entry.resolution_minutes) == (120, 480)
    # The most specific entry wins: live chat has its own service targets.
    chat = service_catalog().entry_for(kind="service", tier="standard", channel="chat")
    email = service_catalog().entry_for(kind="service", tier="standard", channel="email")
    assert chat is not None and email is not None
    assert (chat.channel, chat.first_response_minutes) == ("chat", 15)
    assert (email.channel, email.first_response_minutes) == ("", 240)


def test_manager_creates_a_calendar_and_an_entry_by_api(api_client: Callable[..., Client]) -> None:
    manager = api_client("manager")
    resp = manager.post("/api/v1/calendars", calendar_payload(), content_type="application/json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["hours"][:2] == [
        {"weekday": "monday", "start": "09:00", "end": "12:00"},
        {"weekday": "monday", "start": "13:00", "end": "18:00"},
    ]
    assert {"name": "Spring Festival", "calendar": "chinese", "date": "01-01"} in body["holidays"]
    entry = {"kind": "care", "tier": "key", "calendar": "Shanghai office",
             "first_response_minutes": 30, "resolution_minutes": 240}  # fmt: skip
    resp = manager.put("/api/v1/service-levels", entry, content_type="application/json")
    assert resp.status_code == 200, resp.content
    resp = manager.put(
        "/api/v1/service-levels", {**entry, "first_response_minutes": 20},
        content_type="application/json",
    )  # fmt: skip
    assert resp.status_code == 200
    assert ServiceLevel.objects.get().first_response_minutes == 20
    listed = manager.get("/api/v1/service-levels").json()
    assert listed == [{**entry, "first_response_minutes": 20, "channel": "", "id": listed[0]["id"],
                       "entitled_first_response_minutes": None,
                       "entitled_resolution_minutes": None}]  # fmt: skip
    # Agents read the catalog but do not write it.
    agent = api_client("agent")
    assert agent.get("/api/v1/calendars").status_code == 200
    assert (
        agent.put("/api/v1/service-levels", entry, content_type="application/json").status_code
        == 403
    )


BAD_CALENDARS = [
    ({"hours": [{"weekday": "monday", "start": "16:00", "end": "08:00"}]}, "ends before it starts"),
    ({"hours": [{"weekday": "monday", "start": "08:00", "end": "12:00"},
                {"weekday": "monday", "start": "11:00", "end": "16:00"}]}, "overlaps"),
    ({"hours": [{"weekday": "monday", "start": "08:00", "end": "25:00"}]}, "time of day"),
    ({"hours": [{"weekday": "someday", "start": "08:00", "end": "12:00"}]}, "not a weekday"),
    ({"hours": []}, "at least one working interval"),
    ({"time_zone": "Asia/Atlantis"}, "unknown time zone"),
    ({"holidays": [{"name": "x", "calendar": "jalali", "date": "12-31"}]}, "does not exist"),
    ({"holidays": [{"name": "x", "calendar": "jalali", "date": "1405-12-30"}]}, "does not exist"),
    ({"holidays": [{"name": "x", "calendar": "gregorian", "date": "02-30"}]}, "does not exist"),
    ({"holidays": [{"name": "x", "calendar": "chinese", "date": "13-01"}]}, "does not exist"),
    ({"holidays": [{"name": "x", "calendar": "mayan", "date": "01-01"}]}, "mayan"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BAD_CALENDARS)
def test_bad_calendars_are_refused_and_nothing_is_stored(
    api_client: Callable[..., Client], change: dict[str, Any], message: str
) -> None:
    manager = api_client("manager")
    ok = manager.post(
        "/api/v1/calendars", calendar_payload(name="Kept"), content_type="application/json"
    )
    assert ok.status_code == 201
    before = (BusinessCalendar.objects.count(), WorkingHours.objects.count(), Holiday.objects.count(),
              AuditLog.objects.count())  # fmt: skip
    resp = manager.post(
        "/api/v1/calendars", calendar_payload(**change), content_type="application/json"
    )
    assert resp.status_code == 422, resp.content
    assert message in resp.json()["detail"]
    after = (BusinessCalendar.objects.count(), WorkingHours.objects.count(), Holiday.objects.count(),
             AuditLog.objects.count())  # fmt: skip
    assert after == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"first_response_minutes": 0}, "first_response_minutes: must be between 1"),
        ({"resolution_minutes": -5}, "resolution_minutes: must be between 1"),
        ({"first_response_minutes": 500}, "must not be more than resolution_minutes"),
        ({"kind": "sales"}, "kind"),
        ({"tier": "gold"}, "tier"),
        ({"channel": "pigeon"}, "channel"),
        ({"calendar": "Nowhere"}, "no business calendar named 'Nowhere'"),
    ],
)
def test_bad_targets_are_refused_and_the_entry_is_unchanged(
    api_client: Callable[..., Client], change: dict[str, Any], message: str
) -> None:
    demo_service_catalog()
    manager = api_client("manager")
    entry = {"kind": "support", "tier": "standard", "calendar": "Tehran shop",
             "first_response_minutes": 120, "resolution_minutes": 480}  # fmt: skip
    before = list(ServiceLevel.objects.order_by("id").values())
    resp = manager.put(
        "/api/v1/service-levels", {**entry, **change}, content_type="application/json"
    )
    assert resp.status_code == 422, resp.content
    assert message in resp.json()["detail"]
    assert list(ServiceLevel.objects.order_by("id").values()) == before


def test_service_refuses_a_zero_target_without_writing() -> None:
    calendar = calendar_create(name="c", time_zone="UTC", hours=HOURS)
    with pytest.raises(InputError, match="must be between 1"):
        service_level_set(kind="support", tier="standard", calendar=calendar,
                          first_response_minutes=0, resolution_minutes=10)  # fmt: skip
    assert not ServiceLevel.objects.exists()


def test_changing_hours_and_adding_holidays_all_or_nothing() -> None:
    from khoshnud.servicelevels.business_time import business_add
    from khoshnud.servicelevels.selectors import calendar_schedule
    from khoshnud.servicelevels.services import calendar_set_hours, holiday_add

    calendar = calendar_create(name="c", time_zone="Asia/Tehran", hours=HOURS)
    kept = list(WorkingHours.objects.values_list("weekday", "start_minute", "end_minute"))
    with pytest.raises(InputError, match="overlaps"):
        calendar_set_hours(calendar=calendar, hours=[
            {"weekday": "sunday", "start": "08:00", "end": "12:00"},
            {"weekday": "sunday", "start": "11:59", "end": "13:00"},
        ])  # fmt: skip
    assert list(WorkingHours.objects.values_list("weekday", "start_minute", "end_minute")) == kept
    with pytest.raises(InputError, match="does not exist"):
        holiday_add(calendar=calendar, holiday={"name": "x", "calendar": "jalali", "date": "07-31"})
    assert not Holiday.objects.exists()

    # Saturdays 08:00–16:00 only; 5 Dec 2026 is a Saturday. A one-off Gregorian holiday on it
    # moves 60 minutes from Friday 4 Dec to Saturday 12 Dec 09:00.
    friday = dt.datetime(2026, 12, 4, 12, 0, tzinfo=ZoneInfo("Asia/Tehran"))
    assert business_add(calendar_schedule(calendar=calendar), friday, 60).day == 5
    holiday_add(calendar=calendar, holiday={"name": "Stock-take", "date": "2026-12-05"})
    due = business_add(calendar_schedule(calendar=calendar), friday, 60)
    assert due.isoformat() == "2026-12-12T09:00:00+03:30"
    # Split shifts replace the old hours: Saturday 08:00–10:00 and 14:00–24:00.
    calendar_set_hours(calendar=calendar, hours=[
        {"weekday": 5, "start": "۰۸:۰۰", "end": "10:00"},
        {"weekday": "Saturday", "start": "14:00", "end": "24:00"},
    ])  # fmt: skip
    due = business_add(calendar_schedule(calendar=calendar), friday, 180)
    assert due.isoformat() == "2026-12-12T15:00:00+03:30"
