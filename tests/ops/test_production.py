"""Production settings: the demo key is refused, HTTPS settings from the environment, a CSP,
and `khoshnud manage check --deploy` clean in production mode."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

KHOSHNUD = [sys.executable, "-m", "khoshnud.cli"]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "false",
    "ALLOWED_HOSTS": "cx.example.com",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "KHOSHNUD_DEMO"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests, never in production
    env.update(KHOSHNUD_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="khoshnud.settings")
    env.update(extra)
    return env


def test_serve_refuses_the_demo_secret_key(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="refusing to serve with the demo SECRET_KEY"):
        call_command("serve", "--port", "8103")
    try:
        result = subprocess.run(
            [*KHOSHNUD, "serve", "--port", "8103"],
            env=_env(tmp_path), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("serve started with the demo SECRET_KEY")
    assert result.returncode != 0
    assert "refusing to serve with the demo SECRET_KEY" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_and_debug_may_serve_with_the_demo_key(tmp_path: Path) -> None:
    for extra in ({"KHOSHNUD_DEMO": "1"}, {"DEBUG": "true"}):
        port = _free_port()
        server = subprocess.Popen(
            [*KHOSHNUD, "serve", "--port", str(port), "--workers", "1"],
            env=_env(tmp_path, **extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert server.poll() is None, f"serve exited with {extra}"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.3)
            else:
                pytest.fail("serve did not listen")
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    check = [*KHOSHNUD, "manage", "check", "--deploy", "--fail-level", "WARNING"]
    clean = subprocess.run(check, env=_env(tmp_path, **PRODUCTION), capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    assert "no issues" in clean.stdout
    demo = subprocess.run(check, env=_env(tmp_path), capture_output=True, text=True)
    assert demo.returncode != 0
    for warning in ("khoshnud.W001", "security.W004", "security.W008", "security.W012",
                    "security.W016"):  # fmt: skip
        assert warning in demo.stderr


def test_https_settings_come_from_the_environment(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    )
    out = subprocess.run(
        [*KHOSHNUD, "manage", "shell", "-c", code],
        env=_env(tmp_path, **PRODUCTION), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert (
        out.strip().splitlines()[-1]
        == "('HTTP_X_FORWARDED_PROTO', 'https') True True 31536000 True"
    )


@pytest.mark.django_db
def test_every_page_has_a_content_security_policy(make_staff) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(make_staff("boss", "admin"))
    for url in ["/", "/accounts/login/", "/admin/", "/api/docs"]:
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
