"""Webhook intake: N Telegram updates posted one by one to a channel account's webhook
(verified, parsed, stored through ingestion, the pipeline enqueued on the database queue),
against the same messages posted one by one to /api/v1/events in the same run.

Both go through Django's full request stack in process (middleware, routing, the view), as a
WSGI worker runs them, without the network. The case pipeline is on: the bench checks that
the configured pipeline has the case step and that every stored update queued its pipeline
task. The pipeline itself runs in the worker: after the timed intake, the bench runs a
sample of the queued webhook tasks as the worker does (classification, then the case step)
and reports that rate and the cases opened, apart from the intake figures.

Each rate is given by the wall clock and by this process's CPU time (updates per CPU-second:
what one free core would do; with SQLite it includes the database's work, with PostgreSQL
the server's CPU is not counted). On a shared, loaded machine the wall figure is the floor.
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


def _updates(n: int, offset: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "update_id": 100000 + offset + i,
            "message": {
                "message_id": offset + i + 1,
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


WORKER_SAMPLE = 500


def _pipeline_tasks() -> Any:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="khoshnud.interactions.tasks.run_pipeline")


def _worker_sample(task_ids: list[Any]) -> tuple[float, float, int, dict[str, float]]:
    """Run these queued pipeline tasks as the worker does (each task's steps in order);
    (wall s, CPU s, cases opened, CPU s and wall s per step)."""
    from khoshnud.cases.models import Case
    from khoshnud.interactions.pipeline import ids_from_runs, pipeline_steps

    tasks = list(_pipeline_tasks().filter(id__in=task_ids).order_by("enqueued_at"))
    before = Case.objects.count()
    per_step: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for task in tasks:
        _event, runs = task.args_kwargs["args"]
        ids = ids_from_runs(runs)
        for step in pipeline_steps():  # what pipeline_run does, timed step by step
            step_cpu, step_wall = time.process_time(), time.perf_counter()
            step.run(interaction_ids=ids)
            name = step.path.rsplit(".", 1)[-1]
            per_step[name] = per_step.get(name, 0.0) + time.process_time() - step_cpu
            per_step[f"{name} (wall)"] = (
                per_step.get(f"{name} (wall)", 0.0) + time.perf_counter() - step_wall
            )
    return (time.perf_counter() - wall, time.process_time() - cpu,
            Case.objects.count() - before, per_step)  # fmt: skip


def _intake_in_processes(slug: str, secret: str, bodies: list[bytes], procs: int) -> float:
    """Post ``bodies`` to the webhook from ``procs`` server processes at once (what a WSGI
    server with that many workers does on this machine); seconds from the start signal until
    every process has had all its answers."""
    import multiprocessing

    from django.db import connections

    tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    go, done = context.Event(), context.Queue()

    def serve(part: list[bytes]) -> None:
        from django.test import Client, override_settings

        with override_settings(TASKS=tasks):
            client = Client(SERVER_NAME="localhost")
            go.wait()
            for body in part:
                resp = client.post(f"/hooks/{slug}", body, content_type="application/json",
                                   headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
                assert resp.status_code == 200 and resp.json()["created"] == 1, resp.content
        connections.close_all()
        done.put(len(part))

    workers = [context.Process(target=serve, args=(bodies[i::procs],)) for i in range(procs)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # every process forked and waiting
    started = time.perf_counter()
    go.set()
    posted = sum(done.get() for _ in workers)
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    assert posted == len(bodies)
    return seconds


def run(*, scale: int, db: str) -> dict[str, Any]:
    from django.test import Client, override_settings

    from khoshnud.accounts.services import staff_create, token_create
    from khoshnud.channels.messaging_services import account_create
    from khoshnud.interactions.models import Interaction
    from khoshnud.interactions.pipeline import pipeline_steps

    steps = [s.path for s in pipeline_steps()]
    assert "khoshnud.cases.services.case_open_or_attach" in steps, f"case step off: {steps}"

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

        started, cpu_started = time.perf_counter(), time.process_time()
        for body in events[1:]:
            resp = client.post("/api/v1/events", body, content_type="application/json",
                               headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip
            assert resp.status_code == 200, resp.content
        events_s = time.perf_counter() - started
        events_cpu = time.process_time() - cpu_started
        queued_before = set(_pipeline_tasks().values_list("id", flat=True))

        started, cpu_started = time.perf_counter(), time.process_time()
        marks = [started]  # after each thousand: does the rate fall as the tables grow?
        cpu_marks = [cpu_started]  # the same by CPU time (the load of others left out)
        for i, body in enumerate(updates[1:], 1):
            resp = client.post(f"/hooks/{account.slug}", body, content_type="application/json",
                               headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
            assert resp.status_code == 200 and resp.json()["created"] == 1, resp.content
            if i % 1000 == 0:
                marks.append(time.perf_counter())
                cpu_marks.append(time.process_time())
        hooks_s = time.perf_counter() - started
        hooks_cpu = time.process_time() - cpu_started
        hook_tasks = [
            t for t in _pipeline_tasks().values_list("id", flat=True) if t not in queued_before
        ]

        replay_started = time.perf_counter()
        replay = updates[1 : min(scale, 1001)]
        for body in replay:
            client.post(f"/hooks/{account.slug}", body, content_type="application/json",
                        headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
        replay_s = time.perf_counter() - replay_started
    stored = Interaction.objects.filter(source="telegram").count()
    assert stored == scale, f"stored {stored} of {scale}"
    n = scale - 1
    # The case pipeline is on: each stored update queued its pipeline task (none for replays).
    assert len(hook_tasks) == n, f"{len(hook_tasks)} pipeline tasks queued for {n} updates"
    hook_rate, events_rate = n / hooks_s, n / events_s
    hook_cpu_rate, events_cpu_rate = n / hooks_cpu, n / events_cpu
    print(f"  pipeline steps: {', '.join(s.rsplit('.', 1)[-1] for s in steps)}")
    print(f"  /api/v1/events, one event a request:  {events_rate:,.0f} events/s wall "
          f"({events_s:.1f} s), {events_cpu_rate:,.0f} per CPU-second")  # fmt: skip
    print(f"  Telegram webhook, one update a request: {hook_rate:,.0f} updates/s wall "
          f"({hooks_s:.1f} s), {hook_cpu_rate:,.0f} per CPU-second")  # fmt: skip
    print(f"  pipeline tasks queued by the webhook: {len(hook_tasks):,} (one per update)")
    print(f"  ratio webhook / events: {hook_rate / events_rate:.2f} wall, "
          f"{hook_cpu_rate / events_cpu_rate:.2f} CPU")  # fmt: skip
    per_thousand = [round(1000 / (b - a)) for a, b in itertools.pairwise(marks)]
    cpu_thousand = [round(1000 / (b - a)) for a, b in itertools.pairwise(cpu_marks)]
    print(f"  webhook updates/s per thousand, in order: {per_thousand}")
    print(f"  the same per CPU-second: {cpu_thousand}")
    print(f"  replayed updates (duplicates): {len(replay) / replay_s:,.0f} updates/s")
    sample = hook_tasks[:WORKER_SAMPLE]
    worker_s, worker_cpu, opened, per_step = _worker_sample(sample)
    print(f"  worker, {len(sample):,} of those tasks (classification + case step): "
          f"{len(sample) / worker_s:,.0f} messages/s wall, {len(sample) / worker_cpu:,.0f} per "
          f"CPU-second; {opened} cases opened")  # fmt: skip
    print("  worker ms a message by step (CPU, and wall): "
          + ", ".join(f"{k} {v / len(sample) * 1000:.1f}" for k, v in per_step.items()))  # fmt: skip
    extra: dict[str, Any] = {}
    if db == "postgres":  # SQLite takes one writer at a time: more processes only queue
        more = [json.dumps(u).encode() for u in _updates(scale, offset=10_000_000)]
        two_s = _intake_in_processes(account.slug, secret, more, procs=2)
        extra["webhook_updates_per_s_2_processes"] = round(len(more) / two_s)
        print(f"  Telegram webhook from 2 server processes at once: "
              f"{len(more) / two_s:,.0f} updates/s wall ({len(more):,} new updates)")  # fmt: skip
    return {
        **extra,
        "webhook_updates_per_cpu_s": round(hook_cpu_rate),
        "events_api_per_cpu_s": round(events_cpu_rate),
        "pipeline_tasks_queued": len(hook_tasks),
        "worker_messages_per_s": round(len(sample) / worker_s),
        "worker_cases_opened": opened,
        "worker_ms_by_step": {k: round(v / len(sample) * 1000, 2) for k, v in per_step.items()},
        "webhook_updates_per_s": round(hook_rate),
        "events_api_per_s": round(events_rate),
        "ratio": round(hook_rate / events_rate, 3),
        "replay_updates_per_s": round(len(replay) / replay_s),
        "webhook_per_thousand": per_thousand,
        "webhook_per_cpu_s_per_thousand": cpu_thousand,
        "updates": scale,
        "senders": SENDERS,
    }
