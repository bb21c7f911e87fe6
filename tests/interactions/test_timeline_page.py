"""customer_timeline_page: the API's and the web UI's read, the same rows as the QuerySet."""

from __future__ import annotations

import datetime as dt

import pytest

from khoshnud.interactions.models import Interaction
from khoshnud.interactions.selectors import customer_timeline, customer_timeline_page
from khoshnud.interactions.services import events_ingest
from tests.conftest import event

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def stored(make_staff) -> dict[str, int]:  # type: ignore[no-untyped-def]
    make_staff("daniel")
    events = []
    for i in range(6):  # e0 oldest … e5 newest; e2 and e3 at the same instant (id decides)
        when = T0 + dt.timedelta(hours=[0, 1, 2, 2, 3, 4][i])
        events.append(
            event(
                external_id=f"e{i}",
                occurred_at=when.isoformat(),
                channel="sms" if i % 2 else "email",
                type="call" if i == 4 else "message",
                metadata={"n": i, "متن": "سلام"},
                staff="daniel" if i == 1 else None,
                customer={"email": "sara@example.com"},
            )
        )
    events.append(event(external_id="other", customer={"email": "other@example.com"}))
    results = events_ingest(events=events)
    return {e["external_id"]: r.id for e, r in zip(events, results, strict=True)}  # type: ignore[misc]


def _ids(rows: list[Interaction], stored: dict[str, int]) -> list[str]:
    names = {v: k for k, v in stored.items()}
    return [names[r.pk] for r in rows]


def test_pages_filters_and_order_match_the_queryset(stored: dict[str, int]) -> None:
    cid = Interaction.objects.get(pk=stored["e0"]).customer_id
    page = customer_timeline_page(customer_id=cid, limit=4)
    assert _ids(page, stored) == ["e5", "e4", "e3", "e2"]
    assert _ids(customer_timeline_page(customer_id=cid, limit=4, offset=4), stored) == ["e1", "e0"]
    cases: list[dict] = [
        {},
        {"start": T0 + dt.timedelta(hours=2)},
        {"end": T0 + dt.timedelta(hours=2)},
        {"channels": ["sms"]},
        {"types": ["call", "message"], "channels": ["email", "sms"]},
        {
            "start": T0 + dt.timedelta(hours=1),
            "end": T0 + dt.timedelta(hours=4),
            "types": ["message"],
        },
    ]
    expected = [
        ["e5", "e4", "e3", "e2", "e1", "e0"],
        ["e5", "e4", "e3", "e2"],
        ["e1", "e0"],
        ["e5", "e3", "e1"],
        ["e5", "e4", "e3", "e2", "e1", "e0"],
        ["e3", "e2", "e1"],
    ]
    for filters, want in zip(cases, expected, strict=True):
        rows = customer_timeline_page(customer_id=cid, limit=50, **filters)
        assert _ids(rows, stored) == want, filters
        assert rows == list(customer_timeline(customer_id=cid, **filters)[:50])


def test_rows_are_whole_model_instances(stored: dict[str, int]) -> None:
    cid = Interaction.objects.get(pk=stored["e1"]).customer_id
    [row] = customer_timeline_page(customer_id=cid, offset=4, limit=1)
    orm = Interaction.objects.get(pk=stored["e1"])
    assert row.metadata == {"n": 1, "متن": "سلام"} == orm.metadata
    assert row.occurred_at == T0 + dt.timedelta(hours=1) and row.occurred_at.tzinfo is not None
    assert row.staff_id == orm.staff_id is not None
    for field in Interaction._meta.concrete_fields:
        assert getattr(row, field.attname) == getattr(orm, field.attname), field.name
    assert row._state.adding is False


def test_one_query_per_page(stored: dict[str, int], django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    cid = Interaction.objects.get(pk=stored["e0"]).customer_id
    with django_assert_num_queries(1):
        customer_timeline_page(customer_id=cid, channels=["sms"], types=["message"], limit=2)
