"""Two speeds, one interface: the fast path while the backlog is large, the default path's
re-analysis when the queue is quiet (importer, worker step, task and command)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from khoshnud.channels.csv_import import ImportError_, import_csv
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from khoshnud.language.classifier import LanguageModels
from khoshnud.language.models import MessageAnalysis
from khoshnud.language.selectors import (
    fast_analyses_count,
    reanalysis_queued,
    unclassified_count,
)
from khoshnud.language.services import (
    analyses_reanalyse,
    backlog_is_large,
    backlog_limit,
    interactions_classify,
    reanalysis_schedule,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("use_tiny_models")]

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TEXTS = [
    "the app crashes when I log in",
    "服务太差了，我要退款",
    "ساعت کاری شما چنده؟",
    "do you deliver to tehran",
    "thank you so much, the staff were wonderful",
]


@pytest.fixture(autouse=True)
def _limit_of_three(settings: Any) -> None:
    """The default path "clears" 3 messages in the backlog time: 1 s × 3 messages/s."""
    settings.KHOSHNUD_LANGUAGE_BACKLOG_SECONDS = 1
    settings.KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S = 3


def _store(texts: list[str], direction: str = "inbound") -> list[int]:
    now = timezone.now()
    customer = Customer.objects.create(first_name="T")
    start = Interaction.objects.count()
    return [
        Interaction.objects.create(
            customer=customer,
            channel="chat",
            direction=direction,
            type="message",
            occurred_at=now,
            text=text,
            source="backlog-test",
            external_id=f"bl-{start + n}",
            created_at=now,
        ).pk
        for n, text in enumerate(texts)
    ]


def _versions() -> dict[int, str]:
    return dict(MessageAnalysis.objects.values_list("interaction_id", "model_version"))


def _one_analysis_each() -> bool:
    counts = MessageAnalysis.objects.values("interaction_id").annotate(n=Count("*"))
    return all(row["n"] == 1 for row in counts)


def test_limit_comes_from_the_settings(settings: Any) -> None:
    assert backlog_limit() == 3
    settings.KHOSHNUD_LANGUAGE_BACKLOG_SECONDS = 180
    settings.KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S = 60
    assert backlog_limit() == 10_800
    settings.KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S = "fast"
    with pytest.raises(ImproperlyConfigured, match="KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S"):
        backlog_limit()
    settings.KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S = 0
    with pytest.raises(ImproperlyConfigured, match="above 0"):
        backlog_limit()


def test_backlog_counts_only_what_classification_would_take() -> None:
    _store(TEXTS[:3])
    _store(["we are sorry"], direction="outbound")
    _store([""])
    assert unclassified_count() == 3
    assert unclassified_count(limit=2) == 2
    assert not backlog_is_large()  # 3 is not more than 3
    assert backlog_is_large(incoming=1)  # 3 waiting + 1 coming
    assert backlog_is_large(incoming=4)


def test_fast_while_the_backlog_is_large_then_upgraded_when_quiet(
    use_tiny_models: LanguageModels,
) -> None:
    default, fast = use_tiny_models.version, use_tiny_models.fast_version
    ids = _store(TEXTS)  # 5 waiting > 3: the fast path
    assert interactions_classify(interaction_ids=ids[:2]) == 2
    assert _versions() == {ids[0]: fast, ids[1]: fast}  # 3 still wait: no re-analysis
    # 3 waiting, not more than 3: the default path; 1 still waits, so no re-analysis yet.
    assert interactions_classify(interaction_ids=ids[2:4]) == 2
    assert _versions() == {ids[0]: fast, ids[1]: fast, ids[2]: default, ids[3]: default}
    assert fast_analyses_count() == 2
    # An agent corrects a fast answer; the re-analysis keeps the correction.
    MessageAnalysis.objects.filter(interaction_id=ids[0]).update(corrected_need="care")
    # The last one: nothing waits any more, so the re-analysis task runs (immediate queue in
    # the tests) and upgrades the two fast rows.
    assert interactions_classify(interaction_ids=ids[4:]) == 1
    assert _versions() == dict.fromkeys(ids, default)
    assert MessageAnalysis.objects.count() == 5 and _one_analysis_each()
    assert MessageAnalysis.objects.get(interaction_id=ids[0]).corrected_need == "care"
    assert fast_analyses_count() == 0 and unclassified_count() == 0


def test_explicit_path_wins_over_the_backlog(use_tiny_models: LanguageModels) -> None:
    ids = _store(TEXTS)
    assert interactions_classify(interaction_ids=ids[:1], fast=False) == 1
    assert _versions() == {ids[0]: use_tiny_models.version}


def test_reanalysis_gives_way_to_waiting_messages(use_tiny_models: LanguageModels) -> None:
    ids = _store(TEXTS[:2])
    interactions_classify(interaction_ids=ids, fast=True)
    waiting = _store(TEXTS[2:3])
    report = analyses_reanalyse(yield_to_backlog=True)
    assert (report.upgraded, report.remaining, report.stopped) == (0, 2, "busy")
    assert not reanalysis_schedule()  # a message waits: not quiet
    assert set(_versions().values()) == {use_tiny_models.fast_version}
    interactions_classify(interaction_ids=waiting, fast=False)
    report = analyses_reanalyse(yield_to_backlog=True)
    assert (report.upgraded, report.remaining, report.stopped) == (2, 0, "")


def test_reanalysis_killed_half_way_loses_and_repeats_nothing(
    use_tiny_models: LanguageModels,
) -> None:
    ids = _store(TEXTS)
    interactions_classify(interaction_ids=ids, fast=True)
    first = analyses_reanalyse(limit=2, batch_size=1)  # as if killed after two batches
    assert (first.upgraded, first.remaining, first.stopped) == (2, 3, "limit")
    assert list(_versions().values()).count(use_tiny_models.version) == 2
    rest = analyses_reanalyse(batch_size=2)
    assert (rest.upgraded, rest.remaining) == (3, 0)
    assert analyses_reanalyse().upgraded == 0  # nothing left: idempotent
    assert _versions() == dict.fromkeys(ids, use_tiny_models.version)
    assert MessageAnalysis.objects.count() == 5 and _one_analysis_each()


def test_only_one_reanalysis_task_waits_in_the_database_queue() -> None:
    from django_tasks_db.models import DBTaskResult

    ids = _store(TEXTS[:2])
    interactions_classify(interaction_ids=ids, fast=True)
    with override_settings(TASKS=DATABASE_QUEUE):
        assert not reanalysis_queued()
        assert reanalysis_schedule()
        assert reanalysis_queued()
        assert not reanalysis_schedule()  # one is enough
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "khoshnud.language.tasks.reanalyse_fast_analyses"
    assert task.priority == -100  # after everything else


def test_reanalyse_command(use_tiny_models: LanguageModels, capsys: Any) -> None:
    ids = _store(TEXTS[:3])
    interactions_classify(interaction_ids=ids, fast=True)
    with pytest.raises(CommandError, match="batch size"):
        call_command("language", "reanalyse", "--batch-size", "0")
    assert fast_analyses_count() == 3  # nothing changed
    call_command("language", "reanalyse", "--limit", "1")
    out = capsys.readouterr().out
    assert "re-analysed 1 message(s)" in out and "2 fast analyses left" in out
    assert "the fast path takes over above 3" in out
    call_command("language", "reanalyse")
    assert "re-analysed 2 message(s)" in capsys.readouterr().out
    assert _versions() == dict.fromkeys(ids, use_tiny_models.version)


INTERACTIONS_CSV = (
    "source,external_id,channel,occurred_at,email,direction,text\n"
    "shop,1,email,2026-11-01T10:00:00+03:30,a@example.com,,the app crashes when I log in\n"
    "shop,2,email,2026-11-01T10:05:00+03:30,b@example.com,inbound,服务太差了，我要退款\n"
    "shop,3,email,2026-11-01T10:06:00+03:30,c@example.com,inbound,ساعت کاری شما چنده؟\n"
    "shop,4,email,2026-11-01T10:07:00+03:30,d@example.com,inbound,do you deliver to tehran\n"
    "shop,5,email,2026-11-01T10:08:00+03:30,a@example.com,outbound,we are sorry\n"
)


def test_importer_classifies_a_large_file_with_the_fast_path(
    use_tiny_models: LanguageModels,
) -> None:
    report = import_csv(io.StringIO(INTERACTIONS_CSV), "interactions")  # 4 inbound > 3
    assert (report.created, report.classified_fast) == (5, 4)
    assert "4 message(s) classified with the fast language path" in report.notes[0]
    inbound = Interaction.objects.filter(direction="inbound").values_list("pk", flat=True)
    assert _versions() == dict.fromkeys(inbound, use_tiny_models.fast_version)
    assert unclassified_count() == 0


def test_importer_leaves_a_small_file_to_the_worker(settings: Any) -> None:
    settings.KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S = 4  # 4 inbound, not more than 4
    report = import_csv(io.StringIO(INTERACTIONS_CSV), "interactions")
    assert (report.created, report.classified_fast, report.notes) == (5, 0, [])
    assert MessageAnalysis.objects.count() == 0 and unclassified_count() == 4


def test_importer_refusing_a_file_stores_no_analysis() -> None:
    bad = INTERACTIONS_CSV + "shop,6,pigeon,2026-11-01T10:09:00+03:30,e@example.com,,hello\n"
    with pytest.raises(ImportError_):
        import_csv(io.StringIO(bad), "interactions")
    assert Interaction.objects.count() == 0 and MessageAnalysis.objects.count() == 0


def test_import_command_prints_the_fast_path_note(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "interactions.csv"
    path.write_text(INTERACTIONS_CSV, encoding="utf-8")
    call_command("import_csv", "interactions", str(path), "--no-progress")
    out = capsys.readouterr().out
    assert "5 created" in out and "4 message(s) classified with the fast language path" in out


def test_the_backlog_is_what_waits_among_the_newest_messages() -> None:
    # The limit is 3 (fixture), so the backlog is looked for among the newest 4 × 3 = 12
    # inbound messages: 4 old unclassified ones behind 12 classified ones are not a backlog
    # (the backfill finds them), 4 new ones are (4 > 3).
    old = _store(["where is my order"] * 4)
    newer = _store(["the app crashes"] * 12)
    assert interactions_classify(interaction_ids=newer, fast=True) == 12
    assert unclassified_count() == 4
    assert unclassified_count(among_latest=12) == 0
    assert unclassified_count(among_latest=16) == 4
    assert not backlog_is_large()
    _store(["is the shop open today"] * 4)
    assert unclassified_count(among_latest=12) == 4
    assert backlog_is_large()
    assert set(old) <= set(Interaction.objects.values_list("pk", flat=True))  # nothing lost


def test_the_backlog_answer_is_reused_for_a_few_seconds(settings: Any) -> None:
    # Every pipeline task asks; a worker reads the database at most once per recheck period.
    from khoshnud.language import services

    settings.KHOSHNUD_LANGUAGE_BACKLOG_RECHECK_SECONDS = 3600
    services._backlog_seen.clear()
    assert not backlog_is_large()
    _store(["the app crashes"] * 4)  # 4 > 3 now, but the answer of a moment ago stands
    assert not backlog_is_large()
    settings.KHOSHNUD_LANGUAGE_BACKLOG_RECHECK_SECONDS = 0
    assert backlog_is_large()
    services._backlog_seen.clear()
