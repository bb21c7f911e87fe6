"""Periodic jobs: due jobs are enqueued once per period, however many workers tick."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks import task

from khoshnud.ops import periodic
from khoshnud.ops.models import PeriodicJob
from khoshnud.ops.services import periodic_enqueue_due, periodic_run_now

pytestmark = pytest.mark.django_db(transaction=True)

RUNS: list[str] = []


@task()
def tick_job() -> None:
    RUNS.append("ran")


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch) -> periodic.Periodic:
    monkeypatch.setattr(periodic, "_REGISTRY", {})
    RUNS.clear()
    periodic.register_periodic("test.tick", every=60, task=tick_job)
    return periodic.periodic_job("test.tick")


def test_due_job_runs_once_per_period(job: periodic.Periodic) -> None:
    start = timezone.now()
    assert periodic_enqueue_due(now=start) == ["test.tick"]  # first tick: due at once
    assert periodic_enqueue_due(now=start) == []  # a second worker on the same tick
    assert periodic_enqueue_due(now=start + timedelta(seconds=59)) == []
    assert periodic_enqueue_due(now=start + timedelta(seconds=60)) == ["test.tick"]
    assert RUNS == ["ran", "ran"]
    stored = PeriodicJob.objects.get(name="test.tick")
    assert stored.next_run_at == start + timedelta(seconds=120)
    assert stored.last_enqueued_at == start + timedelta(seconds=60)


def test_setting_overrides_period_and_zero_switches_off(
    job: periodic.Periodic, settings: object
) -> None:
    start = timezone.now()
    settings.KHOSHNUD_PERIODIC = {"test.tick": 10}  # type: ignore[attr-defined]
    assert periodic_enqueue_due(now=start) == ["test.tick"]
    assert PeriodicJob.objects.get(name="test.tick").next_run_at == start + timedelta(seconds=10)
    settings.KHOSHNUD_PERIODIC = {"test.tick": 0}  # type: ignore[attr-defined]
    assert periodic_enqueue_due(now=start + timedelta(hours=1)) == []
    assert RUNS == ["ran"]


def test_run_now_and_unknown_name(job: periodic.Periodic) -> None:
    periodic_run_now(name="test.tick")
    assert RUNS == ["ran"]
    with pytest.raises(CommandError, match=r"no periodic job 'nope' \(known: test\.tick\)"):
        call_command("periodic", run="nope")
    assert RUNS == ["ran"]


def test_register_refuses_non_positive_period() -> None:
    with pytest.raises(ValueError, match="positive"):
        periodic.register_periodic("test.bad", every=0, task=tick_job)
