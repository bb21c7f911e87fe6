"""The insights app's queue tasks: the rollup refresh (run every minute by the worker)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from khoshnud.insights.rollups import rollups_refresh


@task()
def rollups_refresh_task() -> dict[str, Any]:
    return rollups_refresh()
