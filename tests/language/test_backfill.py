"""`khoshnud pipeline backfill` / `khoshnud language backfill`: classify what slipped through."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from khoshnud.cli import management_args
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.pipeline import pipeline_backfill, pipeline_step_run
from khoshnud.language.models import MessageAnalysis
from khoshnud.language.selectors import interactions_unclassified

pytestmark = [pytest.mark.usefixtures("use_tiny_models")]

CLASSIFY = "khoshnud.language.services.interactions_classify"
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _classification_only(settings: Any) -> None:
    """These tests count the classification step alone (tests/cases counts the case step)."""
    settings.KHOSHNUD_INTERACTION_PIPELINE = [
        {"step": CLASSIFY, "missing": "khoshnud.language.selectors.interactions_unclassified"}
    ]


def _store(texts: list[tuple[str, str]], erased: bool = False) -> list[int]:
    """Interactions stored without running the pipeline (as if its task had been lost)."""
    now = timezone.now()
    customer = Customer.objects.create(first_name="T")
    ids = []
    for text, direction in texts:
        row = Interaction.objects.create(
            customer=customer,
            channel="chat",
            direction=direction,
            type="message",
            occurred_at=now,
            text=text,
            source="backfill-test",
            external_id=f"b-{Interaction.objects.count()}",
            created_at=now,
            erased_at=now if erased else None,
        )
        ids.append(row.pk)
    return ids


def _missed() -> tuple[list[int], list[int]]:
    """Four messages to classify, and three that classification rightly leaves alone."""
    todo = _store(
        [
            ("the app crashes when I log in", "inbound"),
            ("服务太差了，我要退款", "inbound"),
            ("ساعت کاری شما چنده؟", "inbound"),
            ("do you deliver to tehran", "inbound"),
        ]
    )
    skipped = _store([("we are sorry", "outbound"), ("", "inbound")])
    skipped += _store([("erased words", "inbound")], erased=True)
    return todo, skipped


def _analyses_per_message() -> dict[int, int]:
    return dict(
        MessageAnalysis.objects.values_list("interaction_id")
        .annotate(n=Count("*"))
        .values_list("interaction_id", "n")
    )


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_selector_finds_exactly_what_classification_missed_in_pages() -> None:
    todo, _skipped = _missed()
    assert interactions_unclassified(after_id=0, limit=10) == todo
    assert interactions_unclassified(after_id=0, limit=3) == todo[:3]
    assert interactions_unclassified(after_id=todo[2], limit=3) == todo[3:]
    pipeline_step_run(step=CLASSIFY, interaction_ids=todo[:1])
    assert interactions_unclassified(after_id=0, limit=10) == todo[1:]


@pytest.mark.django_db
def test_backfill_counts_enqueues_in_batches_and_a_second_run_finds_nothing() -> None:
    todo, skipped = _missed()
    assert _run("pipeline", "backfill", "--dry-run") == (
        f"{CLASSIFY}: 4 missing; dry run: nothing done\n"
    )
    assert MessageAnalysis.objects.count() == 0

    # The test settings run a task as soon as it is enqueued.
    assert _run("pipeline", "backfill", "--batch-size", "3") == (
        f"{CLASSIFY}: 4 missing; 2 task(s) enqueued\n"
    )
    assert _analyses_per_message() == dict.fromkeys(todo, 1)
    assert not MessageAnalysis.objects.filter(interaction_id__in=skipped).exists()

    assert _run("pipeline", "backfill") == (
        f"{CLASSIFY}: 0 missing; 0 task(s) enqueued\nnothing is missing\n"
    )
    assert _analyses_per_message() == dict.fromkeys(todo, 1)


@pytest.mark.django_db
def test_language_backfill_runs_now_and_says_what_is_left() -> None:
    todo, _ = _missed()
    args = management_args("language", ["backfill", "--now", "--batch-size", "2"])
    assert args == ["pipeline", "backfill", "--app", "language", "--now", "--batch-size", "2"]
    assert _run(*args) == (f"{CLASSIFY}: 4 missing; ran in 2 batch(es); 0 still missing\n")
    assert _analyses_per_message() == dict.fromkeys(todo, 1)


@pytest.mark.django_db
def test_classifying_a_message_twice_keeps_one_analysis() -> None:
    todo, _ = _missed()
    first = pipeline_step_run(step=CLASSIFY, interaction_ids=todo)
    again = pipeline_step_run(step=CLASSIFY, interaction_ids=todo)
    pipeline_backfill(now=True)  # finds nothing to add
    assert (first, again) == (4, 0)
    assert _analyses_per_message() == dict.fromkeys(todo, 1)


@pytest.mark.django_db
def test_backfill_refuses_bad_options_and_unknown_steps(settings: Any) -> None:
    with pytest.raises(CommandError, match="batch size must be at least 1"):
        _run("pipeline", "backfill", "--batch-size", "0")
    with pytest.raises(
        CommandError, match="no step of KHOSHNUD_INTERACTION_PIPELINE belongs to 'web'"
    ):
        _run("pipeline", "backfill", "--app", "web")
    with pytest.raises(ValueError, match="is not a step of KHOSHNUD_INTERACTION_PIPELINE"):
        pipeline_step_run(step="os.system", interaction_ids=[1])
    settings.KHOSHNUD_INTERACTION_PIPELINE = [CLASSIFY]  # a step without a selector
    assert _run("pipeline", "backfill") == (
        f"{CLASSIFY}: no selector of what is missing; skipped\nnothing is missing\n"
    )


@pytest.mark.django_db(transaction=True)
def test_backfill_twice_before_the_worker_runs_still_classifies_each_message_once() -> None:
    from django_tasks_db.models import DBTaskResult

    todo, _ = _missed()
    with override_settings(TASKS=DATABASE_QUEUE):
        _run("pipeline", "backfill", "--batch-size", "3")
        _run("pipeline", "backfill", "--batch-size", "3")  # the same work queued twice
        assert DBTaskResult.objects.filter(status="READY").count() == 4
        _run("worker", "--batch", "--verbosity", "0")
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert _analyses_per_message() == dict.fromkeys(todo, 1)
