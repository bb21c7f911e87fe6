"""Writes of the language app: classifying interactions and keeping agents' corrections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from khoshnud.accounts.models import AuditLog
from khoshnud.interactions.models import Direction, Interaction
from khoshnud.language.models import MessageAnalysis, Need, Sentiment

if TYPE_CHECKING:
    from khoshnud.language.pipeline import Analysis

# The pipeline (scikit-learn, jieba) is imported where it runs, in the worker: enqueuing a
# task from a web request must not pay for loading it.

_CHUNK = 500


def interactions_classify(*, interaction_ids: Sequence[int], fast: bool = False) -> int:
    """Classifies the given interactions that are inbound, have text, are not erased and have
    no analysis yet; returns how many analyses it stored.

    Idempotent: already-classified ids are skipped, and a concurrent run storing the same row
    first is ignored (``ignore_conflicts``), so a retried or duplicated task does no harm.
    One batch prediction per chunk of 500 interactions. ``fast=True`` takes the fast path (bulk
    history; its rows carry a model version ending in ``-fast``).
    """
    ids = list(dict.fromkeys(int(i) for i in interaction_ids))
    stored = 0
    for start in range(0, len(ids), _CHUNK):
        stored += _classify_chunk(ids[start : start + _CHUNK], fast)
    return stored


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
