"""Shaping timeline rows (with their staff names and what other apps add) without N+1 queries.

Other apps add to each row through ``settings.KHOSHNUD_TIMELINE_ANNOTATORS``: dotted paths of
callables ``annotate(interaction_ids=[...]) -> {interaction_id: {key: value}}`` (one query per
page each), so this app imports none of them (language adds its analysis today).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.module_loading import import_string

from khoshnud.interactions.models import Interaction

Annotator = Callable[..., Mapping[int, Mapping[str, Any]]]


@cache
def _annotators(paths: tuple[str, ...]) -> tuple[Annotator, ...]:
    return tuple(import_string(path) for path in paths)


def _annotations(ids: Sequence[int]) -> list[Mapping[int, Mapping[str, Any]]]:
    paths = tuple(getattr(settings, "KHOSHNUD_TIMELINE_ANNOTATORS", ()))
    return [annotate(interaction_ids=ids) for annotate in _annotators(paths)]


def timeline_items(rows: list[Interaction]) -> list[dict[str, Any]]:
    ids = [r.pk for r in rows]
    extra = _annotations(ids) if ids else []
    staff_ids = {r.staff_id for r in rows if r.staff_id}
    staff = (
        dict(User.objects.filter(pk__in=staff_ids).values_list("pk", "username"))
        if staff_ids
        else {}
    )
    items = []
    for row in rows:
        item: dict[str, Any] = {
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
            "row": row,
        }
        for found in extra:
            item.update(found.get(row.pk, {}))
        items.append(item)
    return items
