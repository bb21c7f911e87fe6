"""The supervisor of ``khoshnud demo`` and ``khoshnud worker``: restart, back-off, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.conf import settings

from khoshnud.ops.supervise import Supervisor


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def _wait(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_a_child_that_dies_is_restarted_and_sigterm_stops_every_child(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    sleeper = [
        sys.executable,
        "-c",
        f"import os, time; open({str(starts)!r}, 'a').write(f'{{os.getpid()}}\\n'); "
        "time.sleep(120)",
    ]
    said: list[str] = []
    supervisor = Supervisor([("sleeper", sleeper)], first_delay=0.1, poll=0.05, say=said.append)
    outcome: dict[str, object] = {}

    def drive() -> None:
        try:
            first = _wait(lambda: _pids(starts), 10, "the child to start")[0]
            os.kill(first, signal.SIGKILL)
            second = _wait(lambda: _pids(starts)[1:], 10, "the child to be restarted")[0]
            outcome["pids"] = (first, second)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # stop the supervisor running in this process

    before = signal.getsignal(signal.SIGTERM)
    driver = threading.Thread(target=drive)
    driver.start()
    code = supervisor.run()
    driver.join()
    first, second = outcome["pids"]  # type: ignore[misc]
    assert code == 0
    assert first != second
    assert not _alive(second)  # stopped with its supervisor
    assert (
        said[0]
        == f"sleeper (pid {first}) exited with signal SIGKILL after " + said[0].split(" after ")[1]
    )
    assert said[0].endswith("restarting in 0.1s") and said[-1] == "received SIGTERM: stopping"
    assert signal.getsignal(signal.SIGTERM) is before  # handlers restored


def test_a_child_that_cannot_start_makes_the_supervisor_give_up(tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    said: list[str] = []
    supervisor = Supervisor(
        [("web", failing)], first_delay=0.01, poll=0.02, give_up_after=3, say=said.append
    )
    started = time.monotonic()
    assert supervisor.run() == 1
    assert time.monotonic() - started < 10
    assert said[0].startswith("web (pid ") and "exited with status 3" in said[0]
    assert said[-1] == "web keeps exiting right after it starts (3 times in a row): giving up"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _serves(url: str) -> bool:
    try:
        with urlopen(url, timeout=2) as response:  # noqa: S310 - our own local server
            return bool(response.status == 200)
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the demo runs on its embedded SQLite whatever the test database: once is enough",
)
def test_demo_restarts_its_worker_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KHOSHNUD_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="khoshnud.settings")
    port = "8102"
    demo = subprocess.Popen(
        [sys.executable, "-m", "khoshnud.cli", "demo", "--port", port, "--customers", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "demo.log").open("wb"),
        start_new_session=True,
    )
    try:

        def worker() -> int | None:
            pids = [p for p in _children(demo.pid) if "khoshnud.cli worker" in _cmdline(p)]
            return pids[0] if pids else None

        first = _wait(worker, 120, "the demo's worker")
        _wait(lambda: _serves(f"http://127.0.0.1:{port}/accounts/login/"), 60, "the web server")
        os.kill(first, signal.SIGKILL)
        second = _wait(lambda: (w := worker()) != first and w, 30, "a new worker")
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=40) == 0
        assert not _alive(second)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    log = (tmp_path / "demo.log").read_text()
    assert f"worker (pid {first}) exited with signal SIGKILL" in log
