"""Webhook intake: N Telegram updates posted one by one to a channel account's webhook
(verified, parsed, stored through ingestion, the pipeline enqueued on the database queue),
against the same messages posted one by one to /api/v1/events in the same run.

Both go through Django's full request stack in process (middleware, routing, the view), as a
WSGI worker runs them, without the network; the database queue records each request's
pipeline task (the pipeline itself runs in the worker, outside these figures).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

SENDERS = 200
TEXTS = [
    "سلام وقت بخیر سفارشم هنوز نرسیده",
    "亲，我的订单什么时候发货？",
    "my grinder stopped working",
]


def _updates(n: int) -> list[dict[str, Any]]:
    return [
        {
            "update_id": 100000 + i,
            "message": {
                "message_id": i + 1,
                "from": {"id": 7000000 + i % SENDERS, "first_name": f"Sender{i % SENDERS}"},
                "chat": {"id": 7000000 + i % SENDERS, "type": "private"},
                "date": 1764750000 + i,
                "text": TEXTS[i % len(TEXTS)],
            },
        }
        for i in range(n)
    ]


def _event(update: dict[str, Any]) -> dict[str, Any]:
    message = update["message"]
    return {
        "source": "bench-events",
        "external_id": f"u{update['update_id']}",
        "channel": "telegram",
        "direction": "inbound",
        "type": "message",
        "occurred_at": "2026-12-03T08:20:00+00:00",
        "text": message["text"],
        "customer": {"telegram": str(message["from"]["id"])},
    }


def run(*, scale: int, db: str) -> dict[str, Any]:
    from django.test import Client, override_settings

    from khoshnud.accounts.services import staff_create, token_create
    from khoshnud.channels.messaging_services import account_create
    from khoshnud.interactions.models import Interaction

    secret = "bench-secret_1"  # noqa: S105 (a benchmark's own throwaway account)
    account = account_create(
        provider="telegram", name="bench", credentials={"bot_token": "1:x", "secret_token": secret}
    )
    user = staff_create(username="bench", password="Tulip-garden-77", role="agent")  # noqa: S106
    _token, bearer = token_create(user=user, scopes=["read", "write"])
    updates = [json.dumps(u).encode() for u in _updates(scale)]
    events = [json.dumps({"events": [_event(u)]}).encode() for u in _updates(scale)]
    print(f"channels: {scale:,} Telegram updates from {SENDERS} senders into {db}")
    tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with override_settings(TASKS=tasks):
        client = Client(SERVER_NAME="localhost")
        # Warm both paths once (imports, first queries), outside the figures.
        client.post(f"/hooks/{account.slug}", updates[0], content_type="application/json",
                    headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
        client.post("/api/v1/events", events[0], content_type="application/json",
                    headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip

        started = time.perf_counter()
        for body in events[1:]:
            resp = client.post("/api/v1/events", body, content_type="application/json",
                               headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip
            assert resp.status_code == 200, resp.content
        events_s = time.perf_counter() - started

        started = time.perf_counter()
        marks = [started]  # after each thousand: does the rate fall as the tables grow?
        for i, body in enumerate(updates[1:], 1):
            resp = client.post(f"/hooks/{account.slug}", body, content_type="application/json",
                               headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
            assert resp.status_code == 200 and resp.json()["created"] == 1, resp.content
            if i % 1000 == 0:
                marks.append(time.perf_counter())
        hooks_s = time.perf_counter() - started

        replay_started = time.perf_counter()
        replay = updates[1 : min(scale, 1001)]
        for body in replay:
            client.post(f"/hooks/{account.slug}", body, content_type="application/json",
                        headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
        replay_s = time.perf_counter() - replay_started
    stored = Interaction.objects.filter(source="telegram").count()
    assert stored == scale, f"stored {stored} of {scale}"
    n = scale - 1
    hook_rate, events_rate = n / hooks_s, n / events_s
    print(f"  /api/v1/events, one event a request:  {events_rate:,.0f} events/s ({events_s:.1f} s)")
    print(f"  Telegram webhook, one update a request: {hook_rate:,.0f} updates/s ({hooks_s:.1f} s)")
    print(f"  ratio webhook / events: {hook_rate / events_rate:.2f}")
    per_thousand = [round(1000 / (b - a)) for a, b in itertools.pairwise(marks)]
    print(f"  webhook updates/s per thousand, in order: {per_thousand}")
    print(f"  replayed updates (duplicates): {len(replay) / replay_s:,.0f} updates/s")
    return {
        "webhook_updates_per_s": round(hook_rate),
        "events_api_per_s": round(events_rate),
        "ratio": round(hook_rate / events_rate, 3),
        "replay_updates_per_s": round(len(replay) / replay_s),
        "webhook_per_thousand": per_thousand,
        "updates": scale,
        "senders": SENDERS,
    }
