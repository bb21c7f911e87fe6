"""Shared pieces of the messaging tests: accounts made through the API, webhook posts."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from khoshnud.accounts.services import staff_create, token_create

TELEGRAM = {"bot_token": "123456:ABC-telegram-bot", "secret_token": "tg-secret_42"}
WHATSAPP = {"access_token": "EAAG-wa-token", "phone_number_id": "106540352242922",
            "app_secret": "meta-app-secret", "verify_token": "wa-verify-me"}  # fmt: skip
INSTAGRAM = {"access_token": "IGQ-ig-token", "app_secret": "ig-app-secret",
             "verify_token": "ig-verify-me"}  # fmt: skip
WECHAT = {"app_id": "wx1234567890abcdef", "app_secret": "wechat-app-secret",
          "token": "wechat-token"}  # fmt: skip
CREDENTIALS = {"telegram": TELEGRAM, "whatsapp": WHATSAPP, "instagram": INSTAGRAM,
               "wechat": WECHAT}  # fmt: skip


def admin_client(
    username: str = "chan-admin", scopes: tuple[str, ...] = ("read", "write")
) -> Client:
    user = User.objects.filter(username=username).first() or staff_create(
        username=username, password="Tulip-garden-77", role="admin"
    )
    _token, secret = token_create(user=user, scopes=list(scopes))
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")


def add_account(provider: str, name: str = "Shop", **extra: str) -> dict[str, Any]:
    resp = admin_client().post(
        "/api/v1/channels/accounts",
        {"provider": provider, "name": name, "credentials": CREDENTIALS[provider] | extra},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    return dict(resp.json())


def hook_path(account: dict[str, Any]) -> str:
    url = str(account["webhook_url"])
    return url[url.index("/hooks/") :]


def post_json(path: str, body: Any, capture: Any, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with capture(execute=True):
        return Client(enforce_csrf_checks=True).post(
            path, raw, content_type="application/json", headers=headers
        )
