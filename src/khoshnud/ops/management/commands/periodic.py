"""khoshnud periodic — list the periodic jobs that the worker runs, or queue one now."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khoshnud.ops.periodic import periodic_jobs
from khoshnud.ops.selectors import periodic_schedule
from khoshnud.ops.services import periodic_run_now


class Command(BaseCommand):
    help = "List the periodic jobs (breach scans, schedulers…) or queue one at once (--run NAME)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--run", metavar="NAME", help="queue this job now (the worker runs it)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["run"]:
            try:
                periodic_run_now(name=options["run"])
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"queued {options['run']}")
            return
        schedule = periodic_schedule()
        for job in periodic_jobs():
            stored = schedule.get(job.name)
            period = f"every {job.period:g}s" if job.period > 0 else "off"
            due = f"next {stored.next_run_at.isoformat()}" if stored else "not yet scheduled"
            self.stdout.write(f"{job.name}\t{period}\t{due}")
