"""``khoshnud pipeline backfill``: hand every pipeline step what it has not done yet."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khoshnud.interactions.pipeline import pipeline_backfill


class Command(BaseCommand):
    help = "The interaction pipeline (settings.KHOSHNUD_INTERACTION_PIPELINE)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        backfill = sub.add_parser(
            "backfill",
            help="find interactions a step has not handled (e.g. messages without an "
            "analysis) and enqueue them, in batches; idempotent",
        )
        backfill.add_argument(
            "--batch-size", type=int, default=500, help="ids per task (default 500)"
        )
        backfill.add_argument(
            "--now", action="store_true", help="run the steps in this process instead of queuing"
        )
        backfill.add_argument("--dry-run", action="store_true", help="only count what is missing")
        backfill.add_argument("--app", help="only the steps of this app (e.g. language)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = pipeline_backfill(
                batch_size=options["batch_size"],
                now=options["now"],
                dry_run=options["dry_run"],
                app_label=options["app"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for count in counts:
            if not count.selector:
                self.stdout.write(f"{count.step}: no selector of what is missing; skipped")
                continue
            if options["dry_run"]:
                done = "dry run: nothing done"
            elif options["now"]:
                done = f"ran in {count.batches} batch(es); {count.remaining or 0:,} still missing"
            else:
                done = f"{count.batches} task(s) enqueued"
            self.stdout.write(f"{count.step}: {count.missing:,} missing; {done}")
        if not any(c.missing for c in counts):
            self.stdout.write("nothing is missing")
