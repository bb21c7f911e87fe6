"""Token requests never need CSRF; a browser session's writes do (as a real client sees it)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from khoshnud.accounts.services import token_create, token_revoke
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from tests.conftest import event

pytestmark = pytest.mark.django_db

WRITES = [
    ("/api/v1/events", {"events": [event()]}),
    ("/api/v1/customers", {"first_name": "Sara", "identities": {"email": "s@example.com"}}),
    (
        "/api/v1/orders",
        {
            "number": "A-1",
            "customer": {"email": "s@example.com"},
            "placed_at": "2026-11-20T09:30:00+03:30",
            "currency": "USD",
            "lines": [{"sku": "X"}],
        },
    ),
    ("/api/v1/customers/1/merge", {"source_id": 2}),
    ("/api/v1/customers/1/erase", {"reason": "privacy request"}),
    ("/api/v1/interactions/1/analysis", {"need": "care"}),
]


def _post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _counts() -> tuple[int, int]:
    return Customer.objects.count(), Interaction.objects.count()


@pytest.mark.parametrize(("path", "body"), WRITES)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer khn_wrong", "Bearer ", "Basic " + base64.b64encode(b"admin:pw").decode()],
)
def test_write_without_a_valid_token_is_401_json_not_csrf(
    path: str, body: Any, authorization: str | None
) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    client = Client(enforce_csrf_checks=True, **headers)
    before = _counts()
    response = _post(client, path, body)
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["detail"]
    assert _counts() == before


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_revoked_token_is_401_not_csrf(make_staff: Any, path: str, body: Any) -> None:
    token, secret = token_create(user=make_staff(), scopes=["read", "write"])
    token_revoke(token=token)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = _post(client, path, body)
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


def test_valid_token_writes_without_csrf(api_client: Any) -> None:
    response = _post(api_client(), "/api/v1/events", {"events": [event()]})
    assert response.status_code == 200
    assert response.json()["created"] == 1


def test_session_write_needs_the_csrf_token(make_staff: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff())
    refused = _post(client, "/api/v1/events", {"events": [event()]})
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/json")
    assert "CSRF" in refused.json()["detail"]
    assert Interaction.objects.count() == 0
    # A page of the UI sets the cookie; the browser sends it back in the X-CSRFToken header.
    assert client.get("/").status_code == 200
    csrf = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/events",
        data=json.dumps({"events": [event()]}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["created"] == 1
    # Reading needs no CSRF token.
    customer_id = accepted.json()["results"][0]["customer_id"]
    assert client.get(f"/api/v1/customers/{customer_id}/timeline").status_code == 200
