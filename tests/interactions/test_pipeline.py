"""The after-ingestion seam: an ordered list of steps, run after commit with the stored ids."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from khoshnud.interactions.pipeline import interactions_stored, pipeline_run, pipeline_steps
from khoshnud.interactions.services import events_ingest
from tests.conftest import event

pytestmark = pytest.mark.django_db

CALLS: list[tuple[str, list[int]]] = []


def first_step(*, interaction_ids: list[int]) -> None:
    CALLS.append(("first", list(interaction_ids)))


def second_step(*, interaction_ids: list[int]) -> None:
    CALLS.append(("second", list(interaction_ids)))


def failing_step(*, interaction_ids: list[int]) -> None:
    raise RuntimeError("step failed")


STEPS = [f"{__name__}.first_step", f"{__name__}.second_step"]


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


def test_steps_run_in_order_after_commit_with_the_created_ids(
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.KHOSHNUD_INTERACTION_PIPELINE = STEPS
    with django_capture_on_commit_callbacks(execute=True):
        results = events_ingest(events=[event(external_id="a"), event(external_id="b")])
        assert CALLS == []  # nothing runs before the transaction commits
    ids = sorted(r.id for r in results if r.id is not None)
    assert len(ids) == 2
    assert [("first", ids), ("second", ids)] == CALLS


def test_duplicates_do_not_run_the_pipeline_again(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.KHOSHNUD_INTERACTION_PIPELINE = STEPS
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(events=[event()])
    CALLS.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [again] = events_ingest(events=[event()])
    assert again.status == "duplicate"
    assert callbacks == [] and CALLS == []


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.KHOSHNUD_INTERACTION_PIPELINE = STEPS
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                interactions_stored(interaction_ids=[3, 1, 3])
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == [] and CALLS == []


def test_pipeline_run_sorts_and_dedupes_ids_and_stops_at_a_failing_step(settings: Any) -> None:
    settings.KHOSHNUD_INTERACTION_PIPELINE = [
        f"{__name__}.first_step",
        f"{__name__}.failing_step",
        f"{__name__}.second_step",
    ]
    with pytest.raises(RuntimeError, match="step failed"):
        pipeline_run(interaction_ids=[5, 2, 5])
    assert CALLS == [("first", [2, 5])]


def test_the_default_pipeline_classifies_and_knows_what_it_missed() -> None:
    first = pipeline_steps()[0]
    assert first.path == "khoshnud.language.services.interactions_classify"
    assert first.missing is not None
    assert first.missing.__name__ == "interactions_unclassified"
    assert first.app_label == "language"


@pytest.mark.parametrize(
    "entry",
    [{"missing": "x.y"}, {"step": "x.y", "selector": "x.z"}, ["x.y"], 3],
    ids=["no step", "unknown key", "a list", "a number"],
)
def test_a_malformed_pipeline_entry_is_a_clear_configuration_error(
    settings: Any, entry: object
) -> None:
    settings.KHOSHNUD_INTERACTION_PIPELINE = [entry]
    with pytest.raises(ImproperlyConfigured, match="each entry is a dotted path or"):
        pipeline_steps()


def test_interactions_imports_no_app_above_it() -> None:
    """interactions sits below language, cases, feedback…: it reaches them only via settings."""
    root = Path(__file__).resolve().parents[2] / "src" / "khoshnud" / "interactions"
    above = ("language", "cases", "feedback", "engagement", "insights", "channels", "web", "ops")
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "khoshnud" and len(parts) > 1 and parts[1] in above:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_ids_travel_to_the_queue_as_runs_and_come_back_whole() -> None:
    from khoshnud.interactions.pipeline import id_runs, ids_from_runs

    ids = [3, 4, 5, 6, 9, 11, 12]
    assert id_runs(ids) == [[3, 6], 9, [11, 12]]
    assert ids_from_runs(id_runs(ids)) == ids
    assert id_runs([]) == [] and ids_from_runs([]) == []
    assert ids_from_runs([7, 8]) == [7, 8]  # a task queued before runs existed
