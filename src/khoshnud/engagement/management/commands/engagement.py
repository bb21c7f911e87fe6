"""khoshnud engagement run [--now ISO8601] — one scheduler pass; the last line is its JSON."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khoshnud.engagement.scheduler import engagement_run
from khoshnud.inputs import InputError, clean_aware_datetime


class Command(BaseCommand):
    help = (
        "run: one outreach scheduler pass now, or as if at --now (catching up after downtime); "
        'prints {"due", "sent", "skipped_no_consent", "skipped_cap", "skipped_quiet", "failed"}.'
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["run"])
        parser.add_argument("--now", help="the moment of the pass, ISO 8601 with a zone")

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options.get("now"):
            try:
                now = clean_aware_datetime(options["now"], field="--now")
            except InputError as exc:
                raise CommandError(f"--now: {exc.message}") from exc
        result = engagement_run(now=now)
        self.stdout.write(json.dumps(result.as_dict()))
