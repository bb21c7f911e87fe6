"""khoshnud manage deliveries_resume — enqueue again the replies whose sending is overdue."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khoshnud.channels.services import deliveries_resume


class Command(BaseCommand):
    help = (
        "Enqueue again every queued delivery (an outbound reply not yet sent) whose attempt is "
        "overdue by more than --minutes (default 15): run it from cron when the queue may lose "
        "tasks (RQ on a Redis without persistence). Safe to run at any time."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--minutes", type=float, default=15.0)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = deliveries_resume(stale_after=dt.timedelta(minutes=options["minutes"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{count} delivery(ies) enqueued again")
