"""The events and timeline API: auth (401/403), batches, bad input, pagination."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from khoshnud.interactions.models import Interaction
from tests.conftest import event

pytestmark = pytest.mark.django_db


def post(client: Client, body: object, raw: str | None = None):  # type: ignore[no-untyped-def]
    data = raw if raw is not None else json.dumps(body)
    return client.post("/api/v1/events", data=data, content_type="application/json")


def test_unauthenticated_is_401_with_json_error() -> None:
    response = post(Client(), {"events": [event()]})
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    bad = post(Client(HTTP_AUTHORIZATION="Bearer khn_wrong"), {"events": [event()]})
    assert bad.status_code == 401
    assert Interaction.objects.count() == 0


def test_read_only_token_cannot_write(api_client) -> None:  # type: ignore[no-untyped-def]
    response = post(api_client(scopes="read"), {"events": [event()]})
    assert response.status_code == 403
    assert "write" in response.json()["detail"]
    assert Interaction.objects.count() == 0


def test_revoked_token_stops_working(make_staff) -> None:  # type: ignore[no-untyped-def]
    from khoshnud.accounts.services import token_create, token_revoke

    token, secret = token_create(user=make_staff(), scopes=["read", "write"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert post(client, {"events": [event()]}).status_code == 200
    token_revoke(token=token)
    assert post(client, {"events": [event(external_id="2")]}).status_code == 401
    assert token.key_hash != secret and secret not in token.key_hash


def test_batch_results_in_order(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    body = {
        "events": [
            event(external_id="1"),
            event(external_id="2", channel="carrier-pigeon"),
            event(external_id="1"),
        ]
    }
    response = post(client, body)
    assert response.status_code == 200
    data = response.json()
    assert (data["created"], data["duplicate"], data["rejected"]) == (1, 1, 1)
    r0, r1, r2 = data["results"]
    assert r0["status"] == "created" and r0["index"] == 0 and r0["id"] and r0["customer_id"]
    assert r1 == {"index": 1, "status": "rejected", "error": r1["error"]}
    assert "carrier-pigeon" in r1["error"]
    assert r2["status"] == "duplicate" and r2["id"] == r0["id"]


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        ('{"events": [', 400, "malformed JSON"),
        ('{"nothing": 1}', 400, '{"events": [...]}'),
        ('{"events": []}', 400, "empty"),
    ],
)
def test_bad_bodies(api_client, raw: str, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    response = post(api_client(), None, raw=raw)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert Interaction.objects.count() == 0


def test_batch_over_limit_is_413_and_stores_nothing(api_client) -> None:  # type: ignore[no-untyped-def]
    response = post(api_client(), {"events": [event(external_id=str(i)) for i in range(1001)]})
    assert response.status_code == 413
    assert "at most 1000" in response.json()["detail"]
    assert Interaction.objects.count() == 0


def test_timeline_filters_and_pages(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    who = {"telegram": "@sara_k"}
    events = [
        event(
            external_id="e1", channel="email", occurred_at="2026-10-01T10:00:00+03:30", customer=who
        ),
        event(
            external_id="e2",
            channel="telegram",
            occurred_at="2026-10-05T10:00:00+03:30",
            customer=who,
        ),
        event(
            external_id="e3",
            channel="telegram",
            occurred_at="2026-11-01T10:00:00+03:30",
            customer=who,
            type="call",
        ),
        event(
            external_id="e4", channel="sms", occurred_at="2026-11-10T10:00:00+03:30", customer=who
        ),
    ]
    results = post(client, {"events": events}).json()["results"]
    cid = results[0]["customer_id"]
    url = f"/api/v1/customers/{cid}/timeline"

    response = client.get(url)
    assert response.status_code == 200, response.content
    everything = response.json()
    assert [i["external_id"] for i in everything["items"]] == ["e4", "e3", "e2", "e1"]
    assert everything["has_more"] is False
    by_channel = client.get(url, {"channel": "telegram"}).json()["items"]
    assert [i["external_id"] for i in by_channel] == ["e3", "e2"]
    by_type = client.get(url, {"channel": "telegram", "type": "call"}).json()["items"]
    assert [i["external_id"] for i in by_type] == ["e3"]
    october = client.get(url, {"from": "2026-10-01", "to": "2026-10-31"}).json()["items"]
    assert [i["external_id"] for i in october] == ["e2", "e1"]
    page1 = client.get(url, {"page_size": 3}).json()
    page2 = client.get(url, {"page_size": 3, "page": 2}).json()
    assert page1["has_more"] is True and len(page1["items"]) == 3
    assert [i["external_id"] for i in page2["items"]] == ["e1"] and page2["has_more"] is False


def test_timeline_bad_input(api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    assert client.get("/api/v1/customers/424242/timeline").status_code == 404
    [r] = post(client, {"events": [event()]}).json()["results"]
    url = f"/api/v1/customers/{r['customer_id']}/timeline"
    assert client.get(url, {"channel": "pigeon"}).status_code == 422
    naive = client.get(url, {"from": "2026-10-01T10:00:00"})
    assert naive.status_code == 422 and "time zone" in naive.json()["detail"]
    assert client.get(url, {"page_size": 500}).status_code == 422


def test_openapi_docs_are_served() -> None:
    assert Client().get("/api/docs").status_code == 200
    schema = Client().get("/api/openapi.json").json()
    assert "/api/v1/events" in schema["paths"]
    assert "/api/v1/customers/{customer_id}/timeline" in schema["paths"]


def test_invalid_unicode_in_json(api_client) -> None:  # type: ignore[no-untyped-def]
    # JSON may carry a lone surrogate escape: repaired in a message's text (as a decoder with
    # errors="replace" would), refused in keys and names; bytes not UTF-8 are malformed JSON.
    raw = (
        '{"events": [{"source": "s", "external_id": "u1", "channel": "sms", '
        '"occurred_at": "2026-11-20T09:30:00Z", "customer": {"email": "a@example.com", '
        '"first_name": "A"}, "text": "bad \\udcff here"}, '
        '{"source": "s\\ud800", "external_id": "u2", "channel": "sms", '
        '"occurred_at": "2026-11-20T09:30:00Z", "customer": {"email": "a@example.com"}}, '
        '{"source": "s", "external_id": "u3", "channel": "sms", '
        '"occurred_at": "2026-11-20T09:30:00Z", "customer": {"email": "b@example.com", '
        '"first_name": "B\\udcff"}}]}'
    )
    client = api_client()
    data = post(client, None, raw=raw).json()
    assert [r["status"] for r in data["results"]] == ["created", "rejected", "rejected"]
    assert "invalid Unicode" in data["results"][1]["error"]
    assert "first_name" in data["results"][2]["error"]
    row = Interaction.objects.get()
    assert row.text == "bad \ufffd here" and row.customer.first_name == "A"
    not_utf8 = client.post("/api/v1/events", data=b'{"events": [\xff]}',
                           content_type="application/json")  # fmt: skip
    assert not_utf8.status_code == 400 and "malformed JSON" in not_utf8.json()["detail"]


def test_privacy_erasure_needs_admin_and_a_reason(api_client) -> None:  # type: ignore[no-untyped-def]
    agent, admin = api_client("agent"), api_client("admin")
    [r] = post(agent, {"events": [event(text="my address is 12 Vali-Asr St")]}).json()["results"]
    url = f"/api/v1/customers/{r['customer_id']}/erase"
    denied = agent.post(url, json.dumps({"reason": "request"}), content_type="application/json")
    assert denied.status_code == 403
    assert Interaction.objects.get().text == "my address is 12 Vali-Asr St"
    blank = admin.post(url, json.dumps({"reason": "  "}), content_type="application/json")
    assert blank.status_code == 422 and "reason" in blank.json()["detail"]
    ok = admin.post(url, json.dumps({"reason": "privacy request"}), content_type="application/json")
    assert ok.json() == {"customer_id": r["customer_id"], "erased_interactions": 1}
    assert Interaction.objects.get().text == ""
