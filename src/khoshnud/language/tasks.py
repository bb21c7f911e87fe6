"""Background tasks of the language app (thin: they call a service)."""

from __future__ import annotations

from django_tasks import task

from khoshnud.language.services import interactions_classify


@task()
def classify_interactions(interaction_ids: list[int]) -> int:
    """Classify newly ingested inbound interactions; idempotent, safe to retry."""
    return interactions_classify(interaction_ids=[int(i) for i in interaction_ids])
