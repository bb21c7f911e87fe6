"""khoshnud user create — staff accounts with a role."""

from __future__ import annotations

import secrets
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from khoshnud.accounts.models import Role
from khoshnud.accounts.services import staff_create


class Command(BaseCommand):
    help = "Create a staff user with a role (agent, manager, admin)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("username")
        create.add_argument("--role", choices=Role.values, default=Role.AGENT)
        create.add_argument("--password", help="default: a random one, printed")
        create.add_argument("--team", action="append", default=[])

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            staff_create(
                username=options["username"],
                password=password,
                role=options["role"],
                teams=options["team"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created {options['username']} ({options['role']})")
        if not options["password"]:
            self.stdout.write(f"password: {password}")
