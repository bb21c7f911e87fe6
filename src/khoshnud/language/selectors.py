"""Reads of the language analyses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q

from khoshnud.interactions.models import Direction, Interaction
from khoshnud.language.corpus import Example
from khoshnud.language.models import MessageAnalysis

_CHUNK = 500


def analyses_for_interactions(*, interaction_ids: Sequence[int]) -> dict[int, MessageAnalysis]:
    """The analysis of each given interaction that has one, by interaction id (no N+1)."""
    found: dict[int, MessageAnalysis] = {}
    ids = list(dict.fromkeys(interaction_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for analysis in MessageAnalysis.objects.filter(interaction_id__in=chunk):
            found[analysis.interaction_id] = analysis
    return found


def need_and_sentiment(*, interaction_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(need, sentiment) of each analysed interaction, agents' corrections winning; light
    enough for the pipeline's steps (no model instances)."""
    found: dict[int, tuple[str, str]] = {}
    ids = list(dict.fromkeys(interaction_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = MessageAnalysis.objects.filter(interaction_id__in=ids[start : start + _CHUNK])
        for pk, need, fixed_need, sentiment, fixed_sentiment in rows.values_list(
            "interaction_id", "need", "corrected_need", "sentiment", "corrected_sentiment"
        ):
            found[pk] = (fixed_need or need, fixed_sentiment or sentiment)
    return found


def interactions_unclassified(*, after_id: int = 0, limit: int = 500) -> list[int]:
    """What classification has missed (the pipeline's backfill selector): ids above
    ``after_id``, ascending, at most ``limit``, of inbound messages with text, not erased, that
    have no analysis — exactly what ``services.interactions_classify`` would classify."""
    analysed = MessageAnalysis.objects.filter(interaction_id=OuterRef("pk"))
    return list(
        Interaction.objects.filter(
            pk__gt=after_id, direction=Direction.INBOUND, erased_at__isnull=True
        )
        .exclude(text="")
        .filter(~Exists(analysed))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def unclassified_count(*, limit: int | None = None, among_latest: int | None = None) -> int:
    """How many messages wait for classification (what ``interactions_unclassified`` lists),
    counted up to ``limit`` when given: the backlog check needs "more than N?", not the exact
    size of a million-row backlog.

    With ``among_latest``, only the newest that many inbound messages are looked at (newest
    first, by id): a backlog builds up at the end of the log, and without this bound "are
    there more than N?" reads the whole log when the answer is no — measured on PostgreSQL,
    190 ms of each pipeline task's 200 with 5,000 messages queued (bench/channels.py).
    """
    analysed = MessageAnalysis.objects.filter(interaction_id=OuterRef("pk"))
    inbound = Interaction.objects.filter(
        direction=Direction.INBOUND, erased_at__isnull=True
    ).exclude(text="")
    if among_latest is not None:
        latest = inbound.order_by("-pk").values("pk")[:among_latest]
        inbound = Interaction.objects.filter(pk__in=latest)
    pending = inbound.filter(~Exists(analysed)).order_by().values("pk")
    return (pending[:limit] if limit is not None else pending).count()


def fast_analyses(*, after_id: int = 0, limit: int = 500) -> list[tuple[int, str, str]]:
    """Analyses made by the fast path (model version ending in ``-fast``) of messages that
    are still there: (interaction id, model version, text), ids above ``after_id``, ascending,
    at most ``limit`` — what the quiet-time re-analysis upgrades to the default path."""
    from khoshnud.language.classifier import FAST_SUFFIX

    return list(
        MessageAnalysis.objects.filter(
            interaction_id__gt=after_id,
            model_version__endswith=FAST_SUFFIX,
            interaction__erased_at__isnull=True,
        )
        .exclude(interaction__text="")
        .order_by("interaction_id")
        .values_list("interaction_id", "model_version", "interaction__text")[:limit]
    )


def fast_analyses_count() -> int:
    """How many analyses the fast path made that the re-analysis has not upgraded yet."""
    from khoshnud.language.classifier import FAST_SUFFIX

    return MessageAnalysis.objects.filter(
        model_version__endswith=FAST_SUFFIX, interaction__erased_at__isnull=True
    ).count()


def reanalysis_queued() -> bool:
    """True when a re-analysis task already waits in the database queue (other backends
    cannot be asked: False, and a second task finds nothing left to do)."""
    from django.conf import settings

    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if backend != "django_tasks_db.DatabaseBackend":
        return False
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.ready()
        .filter(task_path="khoshnud.language.tasks.reanalyse_fast_analyses")
        .exists()
    )


def timeline_analyses(*, interaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Timeline annotator (settings.KHOSHNUD_TIMELINE_ANNOTATORS): each row's analysis.

    Every row gets ``analysis`` (a plain dict, or None when not analysed) and
    ``analysis_obj`` (the MessageAnalysis, or None).
    """
    analyses = analyses_for_interactions(interaction_ids=interaction_ids)
    out: dict[int, dict[str, Any]] = {}
    for pk in interaction_ids:
        analysis = analyses.get(pk)
        out[pk] = {
            "analysis": None
            if analysis is None
            else {
                "language": analysis.language,
                "need": analysis.final_need,
                "sentiment": analysis.final_sentiment,
                "sentiment_score": analysis.sentiment_score,
                "corrected": bool(analysis.corrected_need or analysis.corrected_sentiment),
                "model_version": analysis.model_version,
            },
            "analysis_obj": analysis,
        }
    return out


def corrections_for_training(*, weight: int) -> list[Example]:
    """Agents' corrections as training examples, joined to the interaction's text.

    The corrected field wins; the other one keeps the model's answer. Erased interactions and
    empty texts are left out (an erasure must also take the message out of future models).
    """
    rows = (
        MessageAnalysis.objects.filter(~Q(corrected_need="") | ~Q(corrected_sentiment=""))
        .filter(interaction__erased_at__isnull=True)
        .exclude(interaction__text="")
        .order_by("interaction_id")
        .values_list(
            "interaction__text",
            "need",
            "corrected_need",
            "sentiment",
            "corrected_sentiment",
            "language",
        )
    )
    return [
        Example(
            text=text,
            need=corrected_need or need,
            sentiment=corrected_sentiment or sentiment,
            lang=language,
            weight=weight,
            source="correction",
        )
        for text, need, corrected_need, sentiment, corrected_sentiment, language in rows
    ]
