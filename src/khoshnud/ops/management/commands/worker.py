"""khoshnud worker — run background tasks from the configured queue, supervised."""

from __future__ import annotations

import logging
import os
import signal
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.crypto import get_random_string


class Command(BaseCommand):
    help = (
        "Run background tasks: the database queue (default) or RQ on Redis "
        "(KHOSHNUD_TASK_BACKEND=rq). Supervises its worker processes and restarts one that dies."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="run what is queued in this process, then exit"
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=int(os.environ.get("KHOSHNUD_WORKER_PROCESSES", "1")),
            help="worker processes to supervise (default 1, or KHOSHNUD_WORKER_PROCESSES)",
        )
        parser.add_argument(
            "--no-supervise",
            action="store_true",
            help="run one worker in this process (when systemd, Kubernetes… restarts it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["processes"] < 1:
            raise CommandError("--processes must be at least 1")
        if options["batch"] or options["no_supervise"]:
            self._work(batch=options["batch"], verbosity=options["verbosity"])
            return
        from khoshnud.ops.supervise import Supervisor

        argv = [sys.executable, "-m", "khoshnud.cli", "worker", "--no-supervise"]
        children = [(f"worker-{n + 1}", argv) for n in range(options["processes"])]
        self.stdout.write(
            f"khoshnud worker: supervising {len(children)} worker process(es) "
            f"(lease {settings.KHOSHNUD_WORKER_LEASE_SECONDS}s)"
        )
        self.stdout.flush()
        raise SystemExit(Supervisor(children, say=self._say).run())

    def _say(self, message: str) -> None:
        self.stderr.write(f"khoshnud worker: {message}")
        self.stderr.flush()

    def _work(self, *, batch: bool, verbosity: int) -> None:
        from khoshnud.language.pipeline import warm_up
        from khoshnud.ops.supervise import follow_supervisor

        follow_supervisor()
        level = logging.INFO if verbosity >= 1 else logging.WARNING
        for name in ("khoshnud.worker", "django_tasks", "django_tasks_db"):
            logging.getLogger(name).setLevel(level)
        warm_up()  # load the language models once, before the first message waits for them
        from khoshnud.ops.services import periodic_enqueue_due
        from khoshnud.ops.worker import (
            DatabaseUnavailable,
            LeasedWorker,
            PeriodicTicker,
            lease_seconds,
            max_attempts,
            periodic_tick_seconds,
        )

        if batch:
            try:
                periodic_enqueue_due()  # a one-off run does what is due now, then exits
            except DatabaseError as exc:  # the worker below retries the database and says why
                logging.getLogger("khoshnud.worker").warning("periodic jobs not enqueued: %s", exc)
        else:
            PeriodicTicker(periodic_tick_seconds()).start()
        if settings.TASK_BACKEND == "rq":
            call_command("rqworker", "default", burst=batch)
            return

        worker = LeasedWorker(
            lease=lease_seconds(),
            max_attempts=max_attempts(),
            queue_names=["default"],
            interval=1.0,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        worker.configure_signals()
        try:
            worker.run()
        except DatabaseUnavailable as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for sig, handler in previous.items():
                if handler is not None:  # None: installed outside Python, leave it
                    signal.signal(sig, handler)
