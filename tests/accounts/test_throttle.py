"""Throttling: staff logins lock per username + address; failed API tokens per address."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings

from khoshnud.accounts.models import TokenFailure
from khoshnud.accounts.services import staff_create, token_create
from tests.web.conftest import in_language

pytestmark = pytest.mark.django_db

PASSWORD = "Tulip-garden-77"


@pytest.fixture
def nasrin(db: Any) -> Any:
    return staff_create(username="nasrin", password=PASSWORD, role="agent")


def _login(client: Client, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        "/accounts/login/", {"username": "nasrin", "password": password}, REMOTE_ADDR=ip
    )


def test_login_locks_after_five_failures_then_the_cool_off_ends_it(nasrin: Any) -> None:
    client = Client()
    for _ in range(4):
        assert _login(client, "wrong-guess").status_code == 200  # the form again
    locked = _login(client, "wrong-guess")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "Try again in 15 minutes" in locked.content.decode()
    right = _login(client, PASSWORD)  # the right password does not open a locked account
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    other_address = _login(Client(), PASSWORD, ip="10.0.0.2")
    assert other_address.status_code == 302  # per username and address
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    after = _login(client, PASSWORD)
    assert after.status_code == 302 and after["Location"] == "/"


def test_the_lockout_page_speaks_the_viewers_language(nasrin: Any) -> None:
    client = in_language(Client(), "fa")
    for _ in range(5):
        response = _login(client, "wrong-guess")
    assert response.status_code == 429
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert "ورودهای ناموفق" in html
    chinese = in_language(Client(), "zh-hans")
    response = _login(chinese, "wrong-guess")
    assert response.status_code == 429 and "登录失败次数过多" in response.content.decode()


def _api(secret: str, ip: str = "10.0.0.1") -> Any:
    return Client().get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR=ip)


def test_failed_tokens_are_rate_limited_per_address(nasrin: Any) -> None:
    _token, secret = token_create(user=nasrin, scopes=["read"])
    wrong = "khn_" + "x" * 43
    for _ in range(20):
        assert _api(wrong).status_code == 401
    blocked = _api(wrong)
    assert blocked.status_code == 429
    assert blocked["Content-Type"].startswith("application/json")
    assert 599 <= int(blocked["Retry-After"]) <= 600
    assert "too many failed token attempts" in blocked.json()["detail"]
    assert _api(secret).status_code == 429  # a right token from a blocked address too
    assert _api(secret, ip="10.0.0.2").status_code == 200
    assert TokenFailure.objects.get(ip="10.0.0.1").count == 20
    TokenFailure.objects.update(
        window_started_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=601)
    )
    assert _api(secret).status_code == 200
    assert _api(wrong).status_code == 401
    assert TokenFailure.objects.get(ip="10.0.0.1").count == 1  # a new window


@override_settings(KHOSHNUD_TRUSTED_PROXIES=1)
def test_behind_a_proxy_the_forwarded_address_is_counted(nasrin: Any) -> None:
    wrong = "khn_" + "y" * 43
    for _ in range(20):
        response = Client().get(
            "/api/v1/customers",
            HTTP_AUTHORIZATION=f"Bearer {wrong}",
            REMOTE_ADDR="127.0.0.1",  # the proxy
            HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",  # a spoofed entry, then the real one
        )
        assert response.status_code == 401
    assert list(TokenFailure.objects.values_list("ip", "count")) == [("203.0.113.9", 20)]


def test_the_test_clients_login_still_works(nasrin: Any) -> None:
    client = Client()
    assert client.login(username="nasrin", password=PASSWORD)
    assert client.get("/").status_code == 200
    assert not client.login(username="nasrin", password="wrong-guess")


def test_without_trusted_proxies_a_forwarded_header_cannot_dodge_the_limit(nasrin: Any) -> None:
    wrong = "khn_" + "z" * 43
    for n in range(20):
        response = Client().get(
            "/api/v1/customers",
            HTTP_AUTHORIZATION=f"Bearer {wrong}",
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"10.1.1.{n}",  # a new made-up address each time
        )
        assert response.status_code == 401
    assert list(TokenFailure.objects.values_list("ip", "count")) == [("198.51.100.7", 20)]
