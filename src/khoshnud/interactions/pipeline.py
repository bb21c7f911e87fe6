"""The one seam after "interactions were stored": an ordered list of steps, run by the queue.

``settings.KHOSHNUD_INTERACTION_PIPELINE`` lists dotted paths of callables, like MIDDLEWARE:
classification today; cases, surveys and webhooks plug in after it. Each step is called as
``step(interaction_ids=[...])`` with the ids of every interaction stored by one write (inbound
and outbound: a step picks what concerns it), and must be idempotent: a task that runs twice,
or is reclaimed after its worker died, runs every step again. This module imports none of the
apps that plug into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from khoshnud.events import INTERACTIONS_STORED

Step = Callable[..., object]


@cache
def _steps(paths: tuple[str, ...]) -> tuple[Step, ...]:
    return tuple(import_string(path) for path in paths)


def pipeline_steps() -> tuple[Step, ...]:
    """The configured steps, imported once per process (and again if the setting changes)."""
    return _steps(tuple(settings.KHOSHNUD_INTERACTION_PIPELINE))


def interactions_stored(*, interaction_ids: Sequence[int]) -> None:
    """Announce stored interactions: the pipeline task is enqueued when the transaction commits.

    Call it inside the transaction that stored them; nothing is enqueued if it rolls back.
    """
    ids = sorted({int(i) for i in interaction_ids})
    if not ids or not settings.KHOSHNUD_INTERACTION_PIPELINE:
        return
    from khoshnud.interactions.tasks import run_pipeline

    transaction.on_commit(lambda: run_pipeline.enqueue(INTERACTIONS_STORED, ids))


def pipeline_run(*, interaction_ids: Sequence[int]) -> int:
    """Run every step, in order, on these interactions; returns the number of steps run.

    Idempotent as long as each step is. A step that raises stops the run, and the task's retry
    (or a later backfill) runs all steps again.
    """
    ids = sorted({int(i) for i in interaction_ids})
    steps = pipeline_steps()
    for step in steps:
        step(interaction_ids=ids)
    return len(steps)
