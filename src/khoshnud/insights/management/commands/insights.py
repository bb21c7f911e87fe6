"""khoshnud insights rebuild | refresh [--from DAY --to DAY] — the dashboard's rollups."""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khoshnud.cases.products import cases_products_infer
from khoshnud.inputs import InputError
from khoshnud.insights.rollups import rollups_build, rollups_rebuild, rollups_refresh


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a day (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "rebuild: every rollup row again from the cases and interactions (or only the days "
        "--from … --to); refresh: the days touched since the last refresh, and today."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["rebuild", "refresh"])
        parser.add_argument("--from", dest="start", help="first local day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last local day, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "refresh":
            result = rollups_refresh()
        elif options["start"] or options["end"]:
            if not (options["start"] and options["end"]):
                raise CommandError("give both --from and --to, or neither")
            start, end = _day(options["start"]), _day(options["end"])
            inferred = cases_products_infer()  # the cases' products first (docs/metrics.md)
            try:
                result = {
                    "rows": rollups_build(start, end),
                    "products_inferred": len(inferred.found),
                }
            except InputError as exc:
                raise CommandError(exc.message) from exc
        else:
            result = rollups_rebuild()
        self.stdout.write(json.dumps(result))
