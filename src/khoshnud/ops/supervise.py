"""A small process supervisor for ``khoshnud demo`` and ``khoshnud worker``.

It starts its children, restarts one that dies (after 1 s, 2 s, 4 s … up to 30 s; back to
1 s once a child has stayed up for ``healthy_after`` seconds) and stops them all cleanly on
SIGTERM or SIGINT: SIGTERM to each child (a worker finishes its current task), then SIGKILL
after ``grace`` seconds. Children run in their own process group, so a Ctrl-C in the
terminal reaches them once, through the supervisor; on Linux they also get SIGTERM if the
supervisor itself is killed, so no orphan keeps running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

logger = logging.getLogger("khoshnud.supervisor")

SUPERVISOR_PID_ENV = "KHOSHNUD_SUPERVISOR_PID"


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_failures: int = 0
    restart_at: float = 0.0
    restarts: int = field(default=0)


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    os.setpgid(0, 0)


class Supervisor:
    def __init__(
        self,
        children: Sequence[tuple[str, Sequence[str]]],
        *,
        env: dict[str, str] | None = None,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        healthy_after: float = 30.0,
        give_up_after: int | None = None,
        grace: float = 20.0,
        poll: float = 0.2,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.children = [Child(name, list(argv)) for name, argv in children]
        self.env = {**(env or os.environ), SUPERVISOR_PID_ENV: str(os.getpid())}
        self.first_delay, self.max_delay = first_delay, max_delay
        self.healthy_after = healthy_after
        self.give_up_after = give_up_after
        self.grace, self.poll = grace, poll
        self.say = say or (lambda message: logger.warning("%s", message))
        self.stop_signal: int | None = None

    def run(self) -> int:
        """Supervise until SIGTERM/SIGINT (returns 0) or until a child keeps dying right after
        it starts ``give_up_after`` times in a row (returns 1)."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            for child in self.children:
                self._start(child)
            while self.stop_signal is None:
                for child in self.children:
                    if not self._watch(child):
                        self.say(
                            f"{child.name} keeps exiting right after it starts "
                            f"({child.quick_failures} times in a row): giving up"
                        )
                        return 1
                time.sleep(self.poll)
            self.say(f"received {signal.Signals(self.stop_signal).name}: stopping")
            return 0
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signal = signum

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(  # noqa: S603 - our own commands
            child.argv, env=self.env, preexec_fn=_die_with_parent
        )
        child.started = time.monotonic()

    def _watch(self, child: Child) -> bool:
        now = time.monotonic()
        if child.process is None:
            if now >= child.restart_at and self.stop_signal is None:
                child.restarts += 1
                self._start(child)
            return True
        code = child.process.poll()
        if code is None:
            return True
        uptime = now - child.started
        child.quick_failures = 0 if uptime >= self.healthy_after else child.quick_failures + 1
        if self.give_up_after is not None and child.quick_failures >= self.give_up_after:
            child.process = None
            return False
        delay = min(self.max_delay, self.first_delay * 2 ** max(0, child.quick_failures - 1))
        self.say(
            f"{child.name} (pid {child.process.pid}) exited with {_describe(code)} after "
            f"{uptime:.1f}s; restarting in {delay:g}s"
        )
        child.process = None
        child.restart_at = now + delay
        return True

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"


def follow_supervisor() -> None:
    """In a supervised child: exit now if the supervisor that started us is already gone
    (it died before our death-signal was armed)."""
    expected = os.environ.pop(SUPERVISOR_PID_ENV, None)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        raise SystemExit("khoshnud: the supervisor is gone; exiting")
