"""The few hot paths written in plain SQL, for both SQLite and PostgreSQL.

On PostgreSQL they use the driver's own cursor with binary parameters bound server-side:
Django's default (client-side binding) escapes every value of a large list as text, which
costs more than the query itself on a 1,000-event batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def select_in(sql: str, params: Sequence[Any], values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` whose last condition is ``{IN}`` against ``values``.

    ``sql`` uses %s placeholders for ``params``; ``{IN}`` becomes ``IN (…)`` on SQLite and
    ``= ANY(array)`` on PostgreSQL.
    """
    if is_postgres():
        import psycopg

        connection.ensure_connection()
        query = sql.replace("%s", "%b").replace("{IN}", "= ANY(%b)")
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(query, [*params, list(values)])
            return cursor.fetchall()
    query = sql.replace("{IN}", "IN (" + ", ".join(["%s"] * len(values)) + ")")
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, *values])
        return cursor.fetchall()


def execute_returning(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Execute a statement with a RETURNING clause (binary parameters on PostgreSQL)."""
    if is_postgres():
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql.replace("%s", "%b"), list(params))
            return cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()
