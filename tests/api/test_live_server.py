"""End to end against a real gunicorn (2 workers × 4 threads, as `khoshnud serve` runs it) with a
real HTTP client: what a client sees, CSRF enforced, keep-alive connections, the body limit.

The server runs on its own SQLite file (a server process cannot see the test's database).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import event

BIN = Path(sys.executable).parent
PASSWORD = "a-long-test-passphrase-7391"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "khoshnud"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("live")
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {"KHOSHNUD_DATA_DIR": str(data), "SECRET_KEY": "live-test-" + "k" * 40,
            "KHOSHNUD_TASK_BACKEND": "dummy", "DEBUG": "0"}  # fmt: skip
    _run(env, "migrate", "-v0")
    _run(env, "user", "create", "boss", "--role", "admin", "--password", PASSWORD)
    token = _run(env, "token", "create", "--user", "boss", "--scopes", "read,write")
    secret = token.strip().splitlines()[-1].strip()
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "khoshnud.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--keep-alive", "5"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/api/v1/customers", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield {"base": base, "secret": secret}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_tokens_need_no_csrf_and_failures_are_401_json(server: dict[str, Any]) -> None:
    base, secret = server["base"], server["secret"]
    with requests.Session() as http:
        good = http.post(f"{base}/api/v1/events", json={"events": [event()]},
                         headers={"Authorization": f"Bearer {secret}"}, timeout=10)  # fmt: skip
        assert good.status_code == 200 and good.json()["created"] == 1
        for auth in (None, "Bearer khn_wrong", "Basic Ym9zczpwdw=="):
            headers = {"Authorization": auth} if auth else {}
            refused = http.post(f"{base}/api/v1/events", json={"events": [event()]},
                                headers=headers, timeout=10)  # fmt: skip
            assert refused.status_code == 401, refused.text
            assert refused.headers["Content-Type"].startswith("application/json")
            assert "Bearer" in refused.json()["detail"]


def test_a_session_write_needs_its_csrf_token(server: dict[str, Any]) -> None:
    base = server["base"]
    with requests.Session() as browser:
        browser.get(f"{base}/accounts/login/", timeout=10)
        csrf = browser.cookies["csrftoken"]
        login = browser.post(f"{base}/accounts/login/", timeout=10, allow_redirects=False,
                             data={"username": "boss", "password": PASSWORD,
                                   "csrfmiddlewaretoken": csrf})  # fmt: skip
        assert login.status_code == 302
        body = {"events": [event(external_id="s-1")]}
        refused = browser.post(f"{base}/api/v1/events", json=body, timeout=10)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        csrf = browser.cookies["csrftoken"]  # rotated at login
        accepted = browser.post(f"{base}/api/v1/events", json=body, timeout=10,
                                headers={"X-CSRFToken": csrf})  # fmt: skip
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["created"] == 1


def test_a_body_over_the_limit_is_413_json_and_the_connection_lives_on(
    server: dict[str, Any],
) -> None:
    base, secret = server["base"], server["secret"]
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    one = event(text="x" * 12_000)
    raw = json.dumps({"events": [{**one, "external_id": str(i)} for i in range(1000)]})
    assert len(raw) > 10 * 1024 * 1024
    with requests.Session() as http:
        big = http.post(f"{base}/api/v1/events", data=raw, headers=headers, timeout=30)
        assert big.status_code == 413
        assert big.json()["detail"].startswith("the body is larger than 10,485,760 bytes")
        # The same keep-alive connection answers the next request.
        after = http.get(f"{base}/api/v1/customers", headers=headers, timeout=10)
        assert after.status_code == 200
        # 1,000 events of 10 KiB (the documented promise) are accepted.
        fits = event(external_id="f000", text="")
        fits["text"] = "y" * (10 * 1024 - len(json.dumps(fits)) - 2)  # 10 KiB with ", "
        raw = json.dumps({"events": [{**fits, "external_id": f"f{i:03}"} for i in range(1000)]})
        assert 10 * 1024 * 1000 - 100 < len(raw) <= 10 * 1024 * 1024
        ok = http.post(f"{base}/api/v1/events", data=raw, headers=headers, timeout=60)
        assert ok.status_code == 200, ok.text[:200]
        assert ok.json()["created"] == 1000


def test_unknown_api_urls_and_unreadable_bodies_are_json(server: dict[str, Any]) -> None:
    base, secret = server["base"], server["secret"]
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    with requests.Session() as http:
        missing = http.get(f"{base}/api/v1/nowhere", headers=headers, timeout=10)
        assert missing.status_code == 404 and missing.json()["detail"]
        deep = http.post(f"{base}/api/v1/events", data="[" * 3000 + "]" * 3000,
                         headers=headers, timeout=10)  # fmt: skip
        assert deep.status_code == 400 and deep.json()["detail"] == "the body nests too deep"
        poison = http.post(f"{base}/api/v1/events", headers=headers, timeout=10,
                           json={"events": [event(external_id="p", occurred_at="9999-12-31T23:59:59-14:00")]})  # fmt: skip
        assert poison.status_code == 200
        assert poison.json()["results"][0]["status"] == "rejected"
        assert "1900-01-01 and 2999-12-31" in poison.json()["results"][0]["error"]
