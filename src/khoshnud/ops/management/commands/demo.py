"""khoshnud demo — migrate, create the demo business once, then serve the UI with a worker."""

from __future__ import annotations

import os
import secrets
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from khoshnud.accounts.models import Role
from khoshnud.accounts.services import roles_ensure, staff_create
from khoshnud.ops.demo_data import build_demo, demo_outreach
from khoshnud.ops.management.commands.serve import DEMO_ENV

DEMO_STAFF = [
    ("sara", Role.AGENT, ["care"]),
    ("wei", Role.AGENT, ["support"]),
    ("james", Role.AGENT, ["service"]),
    ("maryam", Role.MANAGER, ["care"]),
]


def admin_password_file() -> Path:
    return Path(settings.DATA_DIR) / "admin-password.txt"


def ensure_demo_staff() -> str:
    """Create the admin (once) and a few agents; return the admin's password."""
    roles_ensure()
    path = admin_password_file()
    if not User.objects.filter(username="admin").exists():
        password = secrets.token_urlsafe(10)
        staff_create(username="admin", password=password, role=Role.ADMIN, first_name="Admin")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password + "\n")
        path.chmod(0o600)
    for username, role, teams in DEMO_STAFF:
        if not User.objects.filter(username=username).exists():
            staff_create(
                username=username,
                password=secrets.token_urlsafe(16),
                role=role,
                first_name=username.capitalize(),
                teams=teams,
            )
    return (
        path.read_text().strip()
        if path.exists()
        else "(set before; reset with `khoshnud manage changepassword admin`)"
    )


class Command(BaseCommand):
    help = "Set up the embedded demo (SQLite, demo data) and serve it on 127.0.0.1:PORT."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
        call_command("migrate", verbosity=0, interactive=False)
        password = ensure_demo_staff()
        counts = build_demo(
            customers=options["customers"], progress=lambda m: self.stdout.write(f"  demo: {m}")
        )
        if not any(counts.values()):
            self.stdout.write("Demo data already present: reusing it.")
        else:
            n = demo_outreach(today=timezone.localdate())
            self.stdout.write(f"  demo: a birthday rule; {n} customers with a birthday in two days")
        url = f"http://127.0.0.1:{options['port']}/"
        self.stdout.write(
            self.style.SUCCESS(f"\nKhoshnud demo: {url}\n  login: admin / {password}\n")
        )
        sys.stdout.flush()
        if options["no_serve"]:
            return
        from khoshnud.ops.supervise import Supervisor

        # KHOSHNUD_DEMO lets `serve` use the demo SECRET_KEY (it refuses it otherwise).
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "khoshnud.settings", DEMO_ENV: "1"}
        khoshnud = [sys.executable, "-m", "khoshnud.cli"]
        children = [
            ("web", [*khoshnud, "serve", "--port", str(options["port"])]),
            ("worker", [*khoshnud, "worker", "--no-supervise"]),
        ]
        # A child that dies is restarted; one that cannot even start (the port is taken)
        # five times in a row ends the demo with an error rather than retrying forever.
        supervisor = Supervisor(children, env=env, give_up_after=5, say=self._say)
        raise SystemExit(supervisor.run())

    def _say(self, message: str) -> None:
        self.stderr.write(f"khoshnud demo: {message}")
        self.stderr.flush()
