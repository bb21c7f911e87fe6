"""Typed event fields that other apps own: ``settings.KHOSHNUD_EVENT_EXTENSIONS`` maps a
field of an ingested event (``"survey"``) to the dotted path of an object with

- ``clean(value, *, event_type) -> cleaned``: validate the field (raise ``InputError`` or
  ``ValueError`` with a readable reason: the event is rejected with its index);
- ``text(cleaned) -> str``: the interaction's text when the event sends none ("" for none);
- ``store(items: list[StoredEvent])``: record what the app keeps of the events this batch
  *created* (never of duplicates), inside the batch's transaction.

This module imports none of the apps that plug into it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True, slots=True)
class StoredEvent:
    interaction_id: int
    customer_id: int
    channel: str
    occurred_at: dt.datetime
    staff_id: int | None
    source: str
    value: Any


class EventExtension(Protocol):
    def clean(self, value: object, *, event_type: str) -> Any: ...

    def text(self, cleaned: Any) -> str: ...

    def store(self, items: list[StoredEvent]) -> None: ...


@cache
def _load(entries: tuple[tuple[str, str], ...]) -> dict[str, EventExtension]:
    return {name: import_string(path) for name, path in entries}


def event_extensions() -> dict[str, EventExtension]:
    configured: dict[str, str] = getattr(settings, "KHOSHNUD_EVENT_EXTENSIONS", {})
    return _load(tuple(sorted(configured.items())))
