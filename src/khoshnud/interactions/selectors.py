"""Reads of the interaction log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet

from khoshnud.db import INTERACTION_SELECT, timeline_rows
from khoshnud.interactions.models import Interaction


def customer_timeline(
    *,
    customer_id: int,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    channels: Iterable[str] = (),
    types: Iterable[str] = (),
) -> QuerySet[Interaction]:
    """A customer's interactions, newest first, in [start, end), optionally by channel / type.

    Served by the (customer_id, occurred_at desc, id desc) index; slice it to page. To read a
    page as the API and the web UI do, customer_timeline_page is faster.
    """
    qs = Interaction.objects.filter(customer_id=customer_id)
    if start is not None:
        qs = qs.filter(occurred_at__gte=start)
    if end is not None:
        qs = qs.filter(occurred_at__lt=end)
    channel_list = [c for c in channels if c]
    if channel_list:
        qs = qs.filter(channel__in=channel_list)
    type_list = [t for t in types if t]
    if type_list:
        qs = qs.filter(type__in=type_list)
    return qs.order_by("-occurred_at", "-id")


def customer_timeline_page(
    *,
    customer_id: int,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    channels: Iterable[str] = (),
    types: Iterable[str] = (),
    offset: int = 0,
    limit: int = 50,
) -> list[Interaction]:
    """The same rows as ``customer_timeline(...)[offset:offset + limit]``, one query.

    Its SQL is built once per filter shape (db.timeline_sql) instead of compiling a QuerySet on
    every call, and rows become model instances through Model.from_db with the fields' own
    converters, as the ORM does: same objects, about half the time (docs/benchmarks.md).
    """
    rows = timeline_rows(
        customer_id=customer_id,
        start=start,
        end=end,
        channels=[c for c in channels if c],
        types=[t for t in types if t],
        limit=limit,
        offset=offset,
    )
    converters = _converters(connection.vendor)
    db = connection.alias
    out = []
    for row in rows:
        if converters:
            values = list(row)
            for index, convert in converters:
                values[index] = convert(values[index])
            row = tuple(values)
        out.append(Interaction.from_db(db, _FIELD_NAMES, row))
    return out


_FIELD_NAMES = [f.attname for f in Interaction._meta.concrete_fields]


@cache
def _converters(vendor: str) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(column index, convert) for the fields whose values the ORM converts on this database
    (JSON text → dict, SQLite's datetime text → aware datetime, ...)."""
    assert [f.column for f in Interaction._meta.concrete_fields] == list(INTERACTION_SELECT)
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for index, field in enumerate(Interaction._meta.concrete_fields):
        if vendor == "sqlite" and isinstance(field, models.DateTimeField):
            # Django's converter parses with a regular expression; SQLite's text is ISO 8601.
            out.append((index, _sqlite_datetime))
            continue
        column = field.get_col(Interaction._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        for convert in found:
            out.append((index, _bind(convert, column)))
    return tuple(out)


def _sqlite_datetime(value: Any) -> dt.datetime | None:
    """SQLite stores an aware datetime as naive UTC text ("2026-11-20 06:00:00[.ffffff]")."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _bind(convert: Callable[..., Any], column: Any) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        return convert(value, column, connection)

    return run
