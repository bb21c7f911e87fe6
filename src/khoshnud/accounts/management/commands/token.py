"""khoshnud token create|list|revoke — API tokens for integrations."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from khoshnud.accounts.models import ApiToken
from khoshnud.accounts.services import token_create, token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API tokens. `create` prints the new token as its last line."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token (shown once)")
        create.add_argument("--user", required=True)
        create.add_argument("--scopes", default="read", help="comma-separated: read,write")
        create.add_argument("--name", default="")
        listing = sub.add_parser("list", help="list tokens (never their secrets)")
        listing.add_argument("--user")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user named {options['user']!r}")
            try:
                _token, secret = token_create(
                    user=user, scopes=options["scopes"].split(","), name=options["name"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stderr.write("Store this token now: it is shown only once.")
            self.stdout.write(secret)
        elif action == "list":
            qs = ApiToken.objects.select_related("user")
            if options.get("user"):
                qs = qs.filter(user__username=options["user"])
            for t in qs:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.prefix}…  {t.user.username}  {','.join(t.scopes)}  {state}")
        elif action == "revoke":
            matches = list(ApiToken.objects.filter(prefix=options["prefix"][:12]))
            if len(matches) != 1:
                raise CommandError(f"{len(matches)} tokens match {options['prefix']!r}")
            token_revoke(token=matches[0])
            self.stdout.write(f"revoked {matches[0].prefix}…")
