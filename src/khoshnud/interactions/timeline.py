"""Shaping timeline rows (with their language analysis and staff names) without N+1 queries."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from khoshnud.interactions.models import Interaction


def timeline_items(rows: list[Interaction]) -> list[dict[str, Any]]:
    from khoshnud.language.models import MessageAnalysis

    ids = [r.pk for r in rows]
    analyses = {a.interaction_id: a for a in MessageAnalysis.objects.filter(interaction_id__in=ids)}
    staff_ids = {r.staff_id for r in rows if r.staff_id}
    staff = (
        dict(User.objects.filter(pk__in=staff_ids).values_list("pk", "username"))
        if staff_ids
        else {}
    )
    items = []
    for row in rows:
        analysis = analyses.get(row.pk)
        items.append(
            {
                "id": row.pk,
                "customer_id": row.customer_id,
                "channel": row.channel,
                "direction": row.direction,
                "type": row.type,
                "stage": row.stage,
                "occurred_at": row.occurred_at,
                "text": row.text,
                "metadata": row.metadata,
                "staff": staff.get(row.staff_id) if row.staff_id else None,
                "source": row.source,
                "external_id": row.external_id,
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
                "row": row,
                "analysis_obj": analysis,
            }
        )
    return items
