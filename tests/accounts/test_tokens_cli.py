"""Staff, tokens and the CLI contract `khoshnud token create` (token on the last line)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

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


def test_user_create_refuses_a_weak_password_and_stores_nothing() -> None:
    with pytest.raises(CommandError) as refused:
        call_command("user", "create", "rahim", "--password", "123", stdout=io.StringIO())
    message = str(refused.value)
    assert message.startswith("password refused: ")
    assert "too short" in message and "too common" in message and "entirely numeric" in message
    with pytest.raises(ValueError, match="too similar to the username"):
        staff_create(username="rahimkhani", password="rahimkhani1", role="agent")
    assert not User.objects.filter(username__startswith="rahim").exists()
    assert not AuditLog.objects.exists()


def test_the_cli_exits_non_zero_on_a_weak_password(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KHOSHNUD_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "khoshnud.settings",
    }
    env.pop("DATABASE_URL", None)
    khoshnud = [sys.executable, "-m", "khoshnud.cli"]
    subprocess.run([*khoshnud, "migrate"], env=env, check=True, capture_output=True)
    weak = subprocess.run(
        [*khoshnud, "user", "create", "rahim", "--password", "123"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert weak.returncode != 0
    assert "password refused" in weak.stderr and "too short" in weak.stderr


def test_created_passwords_are_argon2_hashed_under_the_real_settings() -> None:
    from khoshnud import settings as real

    with override_settings(PASSWORD_HASHERS=real.PASSWORD_HASHERS):
        user = staff_create(username="hashed", password="Quiet-harbour-2026", role="agent")
        assert user.password.startswith("argon2$argon2id$")
        assert user.check_password("Quiet-harbour-2026")
