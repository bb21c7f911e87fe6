"""Writes of the language app: classifying interactions and keeping agents' corrections."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from khoshnud.accounts.models import AuditLog
from khoshnud.interactions.models import Direction, Interaction
from khoshnud.language.models import MessageAnalysis, Need, Sentiment
from khoshnud.language.selectors import (
    fast_analyses,
    fast_analyses_count,
    reanalysis_queued,
    unclassified_count,
)

if TYPE_CHECKING:
    from khoshnud.language.pipeline import Analysis

# The pipeline (scikit-learn, jieba) is imported where it runs, in the worker: enqueuing a
# task from a web request must not pay for loading it.

_CHUNK = 500
# What the default path classifies per second on one core on real-like messages (measured by
# `khoshnud bench language`, docs/language.md): with the backlog seconds, the size of a backlog
# the default path clears "in a few minutes".
DEFAULT_PATH_MSGS_PER_S = 50.0
BACKLOG_SECONDS = 180.0
# The backlog is looked for among the newest this-many-times-the-limit inbound messages.
BACKLOG_WINDOW = 4
REANALYSE_BATCH = 200
REANALYSE_BUDGET_S = 30.0  # one re-analysis task works this long, then queues the next


def _number_setting(name: str, default: float) -> float:
    """A positive number from Django settings, else the environment, else ``default``."""
    raw: Any = getattr(settings, name, None)
    if raw is None:
        raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be above 0, not {raw!r}")
    return value


def backlog_limit() -> int:
    """The most unclassified messages the default path may face: what it clears in
    ``KHOSHNUD_LANGUAGE_BACKLOG_SECONDS`` (180) at ``KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S`` (50)."""
    seconds = _number_setting("KHOSHNUD_LANGUAGE_BACKLOG_SECONDS", BACKLOG_SECONDS)
    speed = _number_setting("KHOSHNUD_LANGUAGE_DEFAULT_MSGS_PER_S", DEFAULT_PATH_MSGS_PER_S)
    return max(1, int(seconds * speed))


_backlog_seen: dict[str, tuple[float, int]] = {}  # "latest" → (when, unclassified up to limit)


def _recent_backlog(limit: int) -> int:
    """Unclassified messages among the newest ``BACKLOG_WINDOW`` × ``limit`` inbound ones,
    counted up to ``limit`` + 1; asked again at most every
    ``KHOSHNUD_LANGUAGE_BACKLOG_RECHECK_SECONDS`` (5) per process — every pipeline task asks."""
    recheck = float(getattr(settings, "KHOSHNUD_LANGUAGE_BACKLOG_RECHECK_SECONDS", 5))
    now = time.monotonic()
    seen = _backlog_seen.get("latest")
    if seen is not None and now - seen[0] < recheck:
        return seen[1]
    count = unclassified_count(limit=limit + 1, among_latest=BACKLOG_WINDOW * limit)
    _backlog_seen["latest"] = (now, count)
    return count


def backlog_is_large(*, incoming: int = 0) -> bool:
    """True when the unclassified messages (plus ``incoming`` ones about to be stored) are
    more than the default path clears in a few minutes: time for the fast path. The backlog
    is what waits among the newest messages (``_recent_backlog``): older ones that missed
    classification are the backfill's (``khoshnud pipeline backfill``)."""
    limit = backlog_limit()
    if incoming > limit:
        return True
    return _recent_backlog(limit) + incoming > limit


def interactions_classify(*, interaction_ids: Sequence[int], fast: bool | None = None) -> int:
    """Classifies the given interactions that are inbound, have text, are not erased and have
    no analysis yet; returns how many analyses it stored.

    Idempotent: already-classified ids are skipped, and a concurrent run storing the same row
    first is ignored (``ignore_conflicts``), so a retried or duplicated task does no harm.
    One batch prediction per chunk of 500 interactions. ``fast=True`` takes the fast path (bulk
    history; its rows carry a model version ending in ``-fast``), ``fast=False`` the default
    path; ``None`` (the pipeline's call) chooses: the fast path while the backlog is large
    (``backlog_is_large``), the default path otherwise — and once nothing is left to classify,
    the fast rows get a quiet-time re-analysis task (``reanalysis_schedule``).
    """
    ids = list(dict.fromkeys(int(i) for i in interaction_ids))
    auto = fast is None
    use_fast = backlog_is_large() if fast is None else fast
    stored = 0
    for start in range(0, len(ids), _CHUNK):
        stored += _classify_chunk(ids[start : start + _CHUNK], use_fast)
    if auto:
        reanalysis_schedule()
    return stored


def reanalysis_schedule() -> bool:
    """Queues one re-analysis of the fast path's rows when the queue is quiet (nothing left to
    classify), there are fast rows and no re-analysis task waits already; True if queued.

    The task has the lowest priority, so the database queue runs it after everything else.
    """
    if _recent_backlog(backlog_limit()) or not fast_analyses(limit=1) or reanalysis_queued():
        return False
    from khoshnud.language.tasks import reanalyse_fast_analyses

    reanalyse_fast_analyses.enqueue()
    return True


@dataclass
class Reanalysis:
    """What one re-analysis run did."""

    upgraded: int = 0  # fast rows now carrying the default path's answer
    remaining: int = 0  # fast rows left (a limit, a busy queue or the time budget stopped it)
    stopped: str = ""  # "" (done), "limit", "busy", "budget" or "no-encoder"


def analyses_reanalyse(
    *,
    limit: int | None = None,
    batch_size: int = REANALYSE_BATCH,
    yield_to_backlog: bool = False,
    budget_s: float | None = None,
) -> Reanalysis:
    """Re-analyses the fast path's rows with the default path, oldest interaction first.

    Each batch is one transaction: the row is updated only if it still carries the fast
    version it was read with, so a run killed half-way, or two runs at once, lose or repeat
    nothing. Agents' corrections are kept (only the model's answer changes). Stops after
    ``limit`` rows, when ``yield_to_backlog`` and new messages wait for classification, after
    ``budget_s`` seconds, or if the encoder cannot load (the answer would be fast again).
    """
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    if limit is not None and limit < 0:
        raise ValueError("the limit must be 0 or more")
    from khoshnud.language.classifier import FAST_SUFFIX
    from khoshnud.language.pipeline import analyse_batch

    report = Reanalysis()
    started = time.monotonic()
    after = 0
    while True:
        if limit is not None and report.upgraded >= limit:
            report.stopped = "limit"
            break
        if yield_to_backlog and _recent_backlog(backlog_limit()):
            report.stopped = "busy"
            break
        if budget_s is not None and time.monotonic() - started >= budget_s:
            report.stopped = "budget"
            break
        size = batch_size if limit is None else min(batch_size, limit - report.upgraded)
        rows = fast_analyses(after_id=after, limit=size)
        if not rows:
            break
        after = rows[-1][0]
        results = analyse_batch([text for _, _, text in rows])
        if any(r.model_version.endswith(FAST_SUFFIX) for r in results):
            report.stopped = "no-encoder"
            break
        now = timezone.now()
        with transaction.atomic():
            for (pk, old_version, _), result in zip(rows, results, strict=True):
                report.upgraded += MessageAnalysis.objects.filter(
                    interaction_id=pk, model_version=old_version
                ).update(
                    language=result.language,
                    language_confidence=result.language_confidence,
                    need=result.need,
                    need_probabilities=result.need_probabilities,
                    sentiment=result.sentiment,
                    sentiment_score=result.sentiment_score,
                    model_version=result.model_version,
                    analysed_at=now,
                )
    report.remaining = fast_analyses_count()
    return report


def _classify_chunk(ids: list[int], fast: bool = False) -> int:
    done = set(
        MessageAnalysis.objects.filter(interaction_id__in=ids).values_list(
            "interaction_id", flat=True
        )
    )
    todo = [i for i in ids if i not in done]
    if not todo:
        return 0
    rows = list(
        Interaction.objects.filter(pk__in=todo, direction=Direction.INBOUND, erased_at__isnull=True)
        .exclude(text="")
        .order_by("pk")
        .values_list("pk", "customer_id", "text")
    )
    if not rows:
        return 0
    from khoshnud.language.pipeline import analyse_batch

    results = analyse_batch([text for _, _, text in rows], fast=fast)
    now = timezone.now()
    analyses = [
        _analysis_row(pk, customer_id, result, now)
        for (pk, customer_id, _), result in zip(rows, results, strict=True)
    ]
    MessageAnalysis.objects.bulk_create(analyses, ignore_conflicts=True, batch_size=_CHUNK)
    return MessageAnalysis.objects.filter(interaction_id__in=todo).count()


def analyses_erase(*, customer_id: int) -> int:
    """Erase handler (customers.references): delete the analyses of the customer's messages.

    An analysis says what a message was about; when the message is erased, so is it. The
    next backfill leaves erased messages alone (classification skips them).
    """
    deleted, _ = MessageAnalysis.objects.filter(
        Q(customer_id=customer_id) | Q(interaction__customer_id=customer_id)
    ).delete()
    return deleted


def _analysis_row(pk: int, customer_id: int, result: Analysis, now: Any) -> MessageAnalysis:
    return MessageAnalysis(
        interaction_id=pk,
        customer_id=customer_id,
        language=result.language,
        language_confidence=result.language_confidence,
        need=result.need,
        need_probabilities=result.need_probabilities,
        sentiment=result.sentiment,
        sentiment_score=result.sentiment_score,
        model_version=result.model_version,
        analysed_at=now,
    )


def analysis_correct(
    *,
    interaction_id: int,
    user: Any,
    need: str | None = None,
    sentiment: str | None = None,
) -> MessageAnalysis:
    """Keeps an agent's correction of the need and/or sentiment of one interaction.

    Transactional: the correction and its audit row (action ``language.correct``) are written
    together. An interaction not classified yet is classified first. The next
    ``khoshnud language train`` learns from the correction. Permission checks are the
    caller's (the API/UI). Raises ``ValueError`` for an unknown label or when neither label is
    given, ``Interaction.DoesNotExist`` for an unknown interaction.
    """
    if need is None and sentiment is None:
        raise ValueError("give a need, a sentiment or both to correct")
    if need is not None and need not in Need.values:
        raise ValueError(f"unknown need {need!r}; expected one of {', '.join(Need.values)}")
    if sentiment is not None and sentiment not in Sentiment.values:
        raise ValueError(
            f"unknown sentiment {sentiment!r}; expected one of {', '.join(Sentiment.values)}"
        )
    with transaction.atomic():
        analysis = _analysis_for_update(interaction_id)
        changes: dict[str, Any] = {"model_version": analysis.model_version}
        fields = ["corrected_by", "corrected_at"]
        if need is not None:
            changes["need"] = {"from": analysis.final_need, "to": need, "model": analysis.need}
            analysis.corrected_need = need
            fields.append("corrected_need")
        if sentiment is not None:
            changes["sentiment"] = {
                "from": analysis.final_sentiment,
                "to": sentiment,
                "model": analysis.sentiment,
            }
            analysis.corrected_sentiment = sentiment
            fields.append("corrected_sentiment")
        analysis.corrected_by = user
        analysis.corrected_at = timezone.now()
        analysis.save(update_fields=fields)
        AuditLog.objects.create(
            actor=user,
            action="language.correct",
            object_type="interaction",
            object_id=str(interaction_id),
            customer_id=analysis.customer_id,
            data=changes,
        )
    return analysis


def _analysis_for_update(interaction_id: int) -> MessageAnalysis:
    analysis = (
        MessageAnalysis.objects.select_for_update().filter(interaction_id=interaction_id).first()
    )
    if analysis is not None:
        return analysis
    from khoshnud.language.pipeline import analyse

    interaction = Interaction.objects.get(pk=interaction_id)
    MessageAnalysis.objects.bulk_create(
        [
            _analysis_row(
                interaction.pk, interaction.customer_id, analyse(interaction.text), timezone.now()
            )
        ],
        ignore_conflicts=True,
    )
    return MessageAnalysis.objects.select_for_update().get(interaction_id=interaction_id)
