"""The one seam after "interactions were stored": an ordered list of steps, run by the queue.

``settings.KHOSHNUD_INTERACTION_PIPELINE`` lists the steps, in order, like MIDDLEWARE:
classification today; cases, surveys and webhooks plug in after it. An entry is either the
dotted path of the step, or a dict ``{"step": path, "missing": path}`` where ``missing`` is
the step's selector of what it has not done yet (for the backfill)::

    {"step": "khoshnud.language.services.interactions_classify",
     "missing": "khoshnud.language.selectors.interactions_unclassified"}

Each step is called as ``step(interaction_ids=[...])`` with the ids of every interaction
stored by one write (inbound and outbound: a step picks what concerns it), and must be
idempotent: a task that runs twice, or is reclaimed after its worker died, runs every step
again. A ``missing`` selector is called as ``missing(after_id=N, limit=M)`` and returns up to
M ids greater than N, ascending, of interactions the step has not handled yet.
This module imports none of the apps that plug into it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.module_loading import import_string

from khoshnud.events import INTERACTIONS_STORED

Step = Callable[..., object]
MissingSelector = Callable[..., Sequence[int]]


@dataclass(frozen=True, slots=True)
class PipelineStep:
    path: str
    run: Step
    missing: MissingSelector | None = None

    @property
    def app_label(self) -> str:
        config = apps.get_containing_app_config(self.path)
        return config.label if config else ""


def _entry(entry: str | Mapping[str, str]) -> tuple[str, str | None]:
    if isinstance(entry, str):
        return entry, None
    if isinstance(entry, Mapping) and isinstance(entry.get("step"), str):
        unknown = set(entry) - {"step", "missing"}
        if not unknown:
            return entry["step"], entry.get("missing")
    raise ImproperlyConfigured(
        f"KHOSHNUD_INTERACTION_PIPELINE: each entry is a dotted path or "
        f'{{"step": path, "missing": path}}, not {entry!r}'
    )


@cache
def _steps(entries: tuple[tuple[str, str | None], ...]) -> tuple[PipelineStep, ...]:
    return tuple(
        PipelineStep(path, import_string(path), import_string(missing) if missing else None)
        for path, missing in entries
    )


def pipeline_steps() -> tuple[PipelineStep, ...]:
    """The configured steps, imported once per process (and again if the setting changes)."""
    return _steps(tuple(_entry(e) for e in settings.KHOSHNUD_INTERACTION_PIPELINE))


def interactions_stored(*, interaction_ids: Sequence[int]) -> None:
    """Announce stored interactions: the pipeline task is enqueued when the transaction commits.

    Call it inside the transaction that stored them; nothing is enqueued if it rolls back.
    """
    ids = sorted({int(i) for i in interaction_ids})
    if not ids or not settings.KHOSHNUD_INTERACTION_PIPELINE:
        return
    from khoshnud.interactions.tasks import run_pipeline

    # Sent as runs of consecutive ids: a batch's new ids are mostly one run, and the queue
    # copies and stores a task's arguments (a list of 1,000 ids cost 4 % of ingestion).
    runs = id_runs(ids)
    transaction.on_commit(lambda: run_pipeline.enqueue(INTERACTIONS_STORED, runs))


def id_runs(ids: Sequence[int]) -> list[int | list[int]]:
    """Sorted ids → a compact list: a lone id as itself, consecutive ids as [first, last]."""
    out: list[int | list[int]] = []
    start = previous = None
    for i in ids:
        if previous is not None and i == previous + 1:
            previous = i
            continue
        if start is not None and previous is not None:
            out.append(start if start == previous else [start, previous])
        start = previous = i
    if start is not None and previous is not None:
        out.append(start if start == previous else [start, previous])
    return out


def ids_from_runs(runs: Sequence[object]) -> list[int]:
    """The inverse of id_runs; plain lists of ids (tasks queued before runs) pass through."""
    ids: list[int] = []
    for item in runs:
        if isinstance(item, list | tuple):
            first, last = (int(v) for v in item)
            ids.extend(range(first, last + 1))
        else:
            ids.append(int(item))  # type: ignore[call-overload]
    return ids


def pipeline_run(*, interaction_ids: Sequence[int]) -> int:
    """Run every step, in order, on these interactions; returns the number of steps run.

    Idempotent as long as each step is. A step that raises stops the run, and the task's retry
    (or a later backfill) runs all steps again.
    """
    ids = sorted({int(i) for i in interaction_ids})
    steps = pipeline_steps()
    for step in steps:
        step.run(interaction_ids=ids)
    return len(steps)


def pipeline_step(path: str) -> PipelineStep:
    """The configured step with this dotted path; ``ValueError`` for any other path (a queued
    task names its step, and only configured steps may run)."""
    for step in pipeline_steps():
        if step.path == path:
            return step
    raise ValueError(f"{path!r} is not a step of KHOSHNUD_INTERACTION_PIPELINE")


def pipeline_step_run(*, step: str, interaction_ids: Sequence[int]) -> object:
    """Run one configured step on these interactions (what a backfill task does)."""
    return pipeline_step(step).run(interaction_ids=sorted({int(i) for i in interaction_ids}))


@dataclass(slots=True)
class BackfillCount:
    step: str
    selector: bool = True  # False: the step declares no "missing" selector and was skipped
    missing: int = 0
    batches: int = 0
    remaining: int | None = None  # counted again after running now; None when enqueued


def pipeline_backfill(
    *,
    batch_size: int = 500,
    now: bool = False,
    dry_run: bool = False,
    app_label: str | None = None,
    progress: Callable[[str], Any] | None = None,
) -> list[BackfillCount]:
    """Find, for each step that declares a ``missing`` selector, the interactions it has not
    handled, and enqueue one task per batch of ``batch_size`` ids (``now``: run the step on
    each batch in this process instead; ``dry_run``: only count).

    Idempotent: it only hands steps what they have not done, and steps are idempotent, so a
    second run finds nothing (once the queued tasks have run). Steps without a selector are
    skipped; ``app_label`` keeps only the steps of that app. Returns the counts per step.
    """
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    from khoshnud.interactions.tasks import run_pipeline_step

    steps = [s for s in pipeline_steps() if app_label is None or s.app_label == app_label]
    if app_label is not None and not steps:
        raise ValueError(f"no step of KHOSHNUD_INTERACTION_PIPELINE belongs to {app_label!r}")
    counts = []
    for step in steps:
        count = BackfillCount(step.path, selector=step.missing is not None)
        counts.append(count)
        if step.missing is None:
            continue
        after = 0
        while ids := [int(i) for i in step.missing(after_id=after, limit=batch_size)]:
            after = ids[-1]
            count.missing += len(ids)
            if dry_run:
                continue
            if now:
                step.run(interaction_ids=ids)
            else:
                run_pipeline_step.enqueue(step.path, ids)
            count.batches += 1
            if progress:
                progress(f"{step.path}: {count.missing} so far, {count.batches} batch(es)")
        if now and not dry_run:
            count.remaining = _count_missing(step, batch_size)
    return counts


def _count_missing(step: PipelineStep, batch_size: int) -> int:
    assert step.missing is not None
    total, after = 0, 0
    while ids := list(step.missing(after_id=after, limit=max(batch_size, 1000))):
        total += len(ids)
        after = int(ids[-1])
    return total
