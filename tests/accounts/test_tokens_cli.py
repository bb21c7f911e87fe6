"""Staff, tokens and the CLI contract `khoshnud token create` (token on the last line)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from khoshnud.accounts.models import ApiToken, AuditLog
from khoshnud.accounts.selectors import user_role
from khoshnud.accounts.services import staff_create

pytestmark = pytest.mark.django_db


def test_token_create_prints_token_last_and_it_works() -> None:
    staff_create(username="ops", password="pw-ops-123", role="manager")
    out = io.StringIO()
    call_command("token", "create", "--user", "ops", "--scopes", "read,write", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("khn_")
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "write"] and token.key_hash != secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/customers").status_code == 200
    call_command("token", "revoke", token.prefix, stdout=io.StringIO())
    assert client.get("/api/v1/customers").status_code == 401
    assert AuditLog.objects.filter(action__in=["token.create", "token.revoke"]).count() == 2


def test_token_create_errors() -> None:
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("token", "create", "--user", "ghost")
    staff_create(username="a", password="pw-a-12345", role="agent")
    with pytest.raises(CommandError, match="unknown scope"):
        call_command("token", "create", "--user", "a", "--scopes", "admin")
    assert ApiToken.objects.count() == 0


def test_roles() -> None:
    agent = staff_create(username="ag", password="pw-ag-12345", role="agent", teams=["care"])
    admin = staff_create(username="ad", password="pw-ad-12345", role="admin")
    assert user_role(agent) == "agent" and user_role(admin) == "admin"
    assert list(agent.teams.values_list("name", flat=True)) == ["care"]
    with pytest.raises(ValueError, match="unknown role"):
        staff_create(username="x", password="pw-x-123456", role="boss")
    with pytest.raises(ValueError, match="already exists"):
        staff_create(username="ag", password="pw-ag-12345", role="agent")
