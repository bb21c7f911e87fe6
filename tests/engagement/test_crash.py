"""Exactly once: a real ``khoshnud worker`` killed between claiming and sending, on PostgreSQL.

The worker runs the scheduler pass from the queue; the SMTP server holds the first message
(before it answers DATA) until the test has killed the worker's process group, then refuses
it, so nothing of the killed pass was delivered. A second pass (``khoshnud engagement run``)
must send each claimed message exactly once and skip none.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import subprocess
import sys
import threading
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import override_settings

from khoshnud.customers.services import customer_create
from khoshnud.engagement.models import Send, SendStatus
from khoshnud.engagement.services import rule_create
from khoshnud.engagement.tasks import engagement_pass
from tests.channels.conftest import _free_port
from tests.ops.worker_harness import (
    DATABASE_QUEUE,
    kill_group,
    wait_for,
    worker_env,
    worker_process,
)

from .conftest import rule_data

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="the worker process shares the test database (PostgreSQL only)",
    ),
]


class HoldFirst:
    """Holds the first message until released; then refuses it (the sender is dead)."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self.received: list[str] = []
        self.first = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.first:
            self.first = False
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.4.0 sender gone"
        message = email.message_from_bytes(envelope.content, policy=default)
        self.received.append(str(message["To"]))
        return "250 OK"


def test_worker_killed_between_claim_and_send_then_a_rerun_sends_each_once(
    tmp_path: Path,
) -> None:
    customers = [
        customer_create(
            data={
                "first_name": f"C{i}",
                "identities": {"email": f"crash{i}@example.com"},
                "consents": [{"channel": "email", "granted": True, "method": "form"}],
            }
        )
        for i in range(3)
    ]
    rule_create(
        data=rule_data(
            name="Spring",
            kind="campaign",
            audience={"customer_ids": [c.pk for c in customers]},
            send_window=["00:00", "23:59"],
            weekly_cap=5,
        )
    )
    server = HoldFirst()
    port = _free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    env_smtp = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    log = tmp_path / "worker.log"
    try:
        with override_settings(TASKS=DATABASE_QUEUE):
            engagement_pass.enqueue()
        os.environ.update(env_smtp)
        try:
            with worker_process(log, "--no-supervise") as worker:
                assert server.held.wait(90), log.read_text(errors="replace")[-3000:]
                # The pass has claimed all three (committed) and is sending the first.
                assert Send.objects.filter(status=SendStatus.CLAIMED).count() == 3
                kill_group(worker)
        finally:
            for key in env_smtp:
                os.environ.pop(key, None)
        server.release.set()
        assert server.received == []  # nothing of the killed pass was delivered
        rerun = subprocess.run(
            [sys.executable, "-m", "khoshnud.cli", "engagement", "run"],
            env={**worker_env(), **env_smtp},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        result = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert (result["due"], result["sent"], result["failed"]) == (0, 3, 0)
        wait_for(lambda: len(server.received) == 3, 10, "three messages")
        assert sorted(server.received) == [f"crash{i}@example.com" for i in range(3)]
        assert Send.objects.filter(status=SendStatus.SENT).count() == 3
        again = subprocess.run(
            [sys.executable, "-m", "khoshnud.cli", "engagement", "run"],
            env={**worker_env(), **env_smtp},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert json.loads(again.stdout.strip().splitlines()[-1])["sent"] == 0
        assert len(server.received) == 3
    finally:
        server.release.set()
        controller.stop()
