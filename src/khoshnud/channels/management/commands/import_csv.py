"""khoshnud import KIND FILE.csv — customers, products, orders or interactions; all rows or none."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khoshnud.channels.csv_import import KINDS, ImportError_, import_csv
from khoshnud.db import DatabaseBusyError


class Command(BaseCommand):
    help = (
        "Import a UTF-8 CSV file. Every row is checked first; any error is reported with its "
        "line number and nothing is stored. Rows already known (same identity, sku, order "
        "number or source+external_id) are counted as duplicates and left as they are."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                report = import_csv(stream, options["kind"], progress=not options["no_progress"])
        except DatabaseBusyError as exc:
            raise CommandError(f"{exc}; nothing was imported") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text ({exc.reason})") from None
        except ImportError_ as exc:
            for line, message in exc.errors[:50]:
                self.stderr.write(f"{path}:{line}: {message}")
            if len(exc.errors) > 50:
                self.stderr.write(f"... and {len(exc.errors) - 50} more")
            raise CommandError(f"{len(exc.errors)} error(s); nothing was imported") from None
        self.stdout.write(
            f"imported {report.kind}: {report.rows} rows, {report.created} created, "
            f"{report.duplicates} already present"
        )
        for note in report.notes:
            self.stdout.write(note)
