"""The web UI reads any query string without a 500: an unreadable filter is dropped and
explained, an impossible page is the last one, nothing stored changes."""

from __future__ import annotations

import pytest
from django.test import Client

from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction

BIG = "100000000000000000000"


@pytest.mark.parametrize(
    "query",
    [
        "q=a%00b",
        "q=%00",
        f"page={BIG}",
        "page=%00",
        "q=sara&page=-5",
    ],
)
def test_customer_list_survives_bad_query_strings(
    agent_client: Client, sara: Customer, query: str
) -> None:
    response = agent_client.get(f"/?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("to=9999-12-31", "9999-12-31"),
        ("from=0001-01-01", "0001-01-01"),
        ("to=2999-12-31&from=1900-01-01", ""),
        ("from=%00", ""),
        (f"page={BIG}", ""),
        ("channel=%00", ""),
        ("type=a%00b", ""),
    ],
)
def test_customer_page_survives_bad_filters(
    agent_client: Client, sara: Customer, ingest: object, query: str, shown: str
) -> None:
    import datetime as dt

    ingest(at=dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC))  # type: ignore[operator]
    before = Interaction.objects.count()
    for path in (f"/customers/{sara.pk}/", f"/customers/{sara.pk}/timeline/"):
        response = agent_client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
        if shown:
            assert shown in response.content.decode()  # named in the filter's error message
    assert Interaction.objects.count() == before


def test_customer_id_past_64_bits_is_404(agent_client: Client, sara: Customer) -> None:
    assert agent_client.get(f"/customers/{BIG}/").status_code == 404
    assert agent_client.get(f"/customers/{BIG}/timeline/").status_code == 404
