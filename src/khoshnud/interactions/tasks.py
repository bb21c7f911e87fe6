"""Background tasks of the interactions app (thin: they call the pipeline)."""

from __future__ import annotations

from django_tasks import task

from khoshnud.events import INTERACTIONS_STORED
from khoshnud.interactions.pipeline import ids_from_runs, pipeline_run, pipeline_step_run


@task()
def run_pipeline(event: str, interaction_ids: list[int | list[int]]) -> int:
    """Run the steps after ``event`` (today only "interactions.stored") on these ids, given
    as pipeline.id_runs makes them (ids, or [first, last] runs)."""
    if event != INTERACTIONS_STORED:
        raise ValueError(f"unknown event {event!r}")
    return pipeline_run(interaction_ids=ids_from_runs(interaction_ids))


@task()
def run_pipeline_step(step: str, interaction_ids: list[int]) -> int | None:
    """Run one configured step on these ids (enqueued by the backfill)."""
    result = pipeline_step_run(step=step, interaction_ids=[int(i) for i in interaction_ids])
    return result if isinstance(result, int) else None
