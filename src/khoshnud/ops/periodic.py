"""Periodic jobs: tasks that the queue runs every N seconds (breach scans, schedulers…).

An app registers its jobs in its ``AppConfig.ready()``::

    from khoshnud.ops.periodic import register_periodic
    register_periodic("cases.breach_scan", every=60, task=breach_scan)

``khoshnud worker`` ticks every few seconds (``ops.services.periodic_enqueue_due``): a job
whose time has come is enqueued once per period across all workers, then runs like any task
(so it must be idempotent, as every task is). ``KHOSHNUD_PERIODIC`` overrides a job's period
in seconds, or switches it off with 0: ``{"cases.breach_scan": 30}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Periodic:
    name: str
    every: float  # seconds
    task: Any  # a django-tasks Task taking no arguments

    @property
    def period(self) -> float:
        """The period in force: the setting's override, else the registered one (0 = off)."""
        overrides: dict[str, float] = getattr(settings, "KHOSHNUD_PERIODIC", {})
        return float(overrides.get(self.name, self.every))


_REGISTRY: dict[str, Periodic] = {}


def register_periodic(name: str, *, every: float, task: Any) -> None:
    if every <= 0:
        raise ValueError(f"periodic job {name!r}: the period must be positive")
    _REGISTRY[name] = Periodic(name=name, every=float(every), task=task)


def periodic_jobs() -> list[Periodic]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def periodic_job(name: str) -> Periodic:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise LookupError(f"no periodic job {name!r} (known: {known})") from None
