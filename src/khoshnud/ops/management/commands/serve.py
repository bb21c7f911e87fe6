"""khoshnud serve — the web UI and API under gunicorn (production)."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Set by `khoshnud demo` for its own server on 127.0.0.1: the one place the demo key may serve.
DEMO_ENV = "KHOSHNUD_DEMO"


class Command(BaseCommand):
    help = "Serve the web UI and API with gunicorn."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))

    def handle(self, *args: Any, **options: Any) -> None:
        demo = os.environ.get(DEMO_ENV) == "1"
        if settings.SECRET_KEY == settings.DEMO_SECRET_KEY and not (settings.DEBUG or demo):
            raise CommandError(
                "refusing to serve with the demo SECRET_KEY: set SECRET_KEY to a long random "
                "value (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`), "
                "or DEBUG=true for local development, or use `khoshnud demo`"
            )
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "khoshnud.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ]
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
