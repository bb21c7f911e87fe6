"""khoshnud worker — run background tasks from the configured queue."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run background tasks: the database queue (default) or RQ on Redis (KHOSHNUD_TASK_BACKEND=rq)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        from khoshnud.language.pipeline import warm_up

        warm_up()  # load the language models once, before the first message waits for them
        if settings.TASK_BACKEND == "rq":
            call_command("rqworker", "default", burst=options["batch"])
        else:
            extra = ["--batch"] if options["batch"] else []
            call_command("db_worker", "--no-startup-delay", *extra)
