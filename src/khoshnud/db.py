"""Every statement of the project written in plain SQL, for both SQLite and PostgreSQL.

The hot paths of ingestion (look-ups by key, the interaction and identity inserts) live here
and nowhere else, each table with one list of its columns and their PostgreSQL types. On
PostgreSQL they bind parameters server-side in binary: Django's default (client-side binding)
escapes every value of a large list as text, which costs more than the query itself on a
1,000-event batch. They still run through Django's cursor wrapper, so they are logged, counted
by ``django_assert_num_queries`` and their errors are Django's (IntegrityError, ...).

Also here: what a transient database failure is (deadlock, serialization failure, a concurrent
insert of the same key, SQLite busy) and one bounded retry for a unit of work.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

T = TypeVar("T")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- running statements ----------------------------------------------------------------------


@contextmanager
def _cursor(*, binary: bool = True, binary_results: bool = False) -> Iterator[Any]:
    """A cursor of Django's connection; on PostgreSQL one that binds parameters server-side
    (and, with ``binary_results``, receives rows in binary, date-times read by the driver's C
    loader, aware and in UTC, instead of Django's Python one).

    Wrapped like any Django cursor (query log, execute_wrappers, error translation).
    """
    if not (binary and is_postgres()):
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    # Django's connection never prepares statements (prepare_threshold None): each batch is
    # planned with its own values, which the LATERAL probes below rely on.
    connection.ensure_connection()
    raw: Any = psycopg.Cursor(connection.connection)
    if binary_results:
        from psycopg.types.datetime import TimestamptzBinaryLoader

        raw.format = psycopg.pq.Format.BINARY
        raw.adapters.register_loader("timestamptz", TimestamptzBinaryLoader)  # this cursor's
    wrapped = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    try:
        yield wrapped
    finally:
        raw.close()


def _sql(statement: str) -> str:
    """%s placeholders → %b (binary) for the server-bound PostgreSQL cursor."""
    return statement.replace("%s", "%b") if is_postgres() else statement


def select_in(
    *,
    table: str,
    columns: str,
    where: str,
    params: Sequence[Any],
    key: str,
    values: Sequence[Any],
    key_type: str = "varchar",
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table t WHERE where AND t.key IN values``, fast on both databases.

    ``key`` must be unique within ``where`` (one row per value). ``columns`` and ``where``
    refer to the table as ``t`` and use %s for ``params``. PostgreSQL looks each value up with
    a LATERAL index probe over an unnested binary array: with ``= ANY(array)`` or a plain join,
    its planner — its statistics behind a bulk load — scanned every row of a source instead.
    """
    if not values:
        return []
    if is_postgres():
        query = (
            f"SELECT {columns} FROM unnest(%s::{key_type}[]) AS k(v) "  # noqa: S608 - code, not input
            f"CROSS JOIN LATERAL (SELECT * FROM {table} t WHERE t.{key} = k.v AND {where} "
            "LIMIT 1) t"
        )
        with _cursor() as cursor:
            cursor.execute(_sql(query), [list(values), *params])
            return list(cursor.fetchall())
    marks = ", ".join(["%s"] * len(values))
    query = f"SELECT {columns} FROM {table} t WHERE {where} AND t.{key} IN ({marks})"  # noqa: S608
    with _cursor() as cursor:
        cursor.execute(query, [*params, *values])
        return list(cursor.fetchall())


def select_rows(
    sql: str, params: Sequence[Any], *, binary_results: bool = False
) -> list[tuple[Any, ...]]:
    """Run a SELECT written for both databases (%s placeholders); binary on PostgreSQL.

    With ``binary_results``, PostgreSQL also sends the rows in binary and its date-times are
    read by the driver's C loader (aware, UTC) instead of Django's Python one, which re-reads
    every value (measured: a tenth of the pipeline's case step, 27,000 date-times a batch).
    """
    with _cursor(binary_results=binary_results) as cursor:
        cursor.execute(_sql(sql), list(params))
        return list(cursor.fetchall())


def rows_counted_up_to(
    *, table: str, key: str, where: str, params: Sequence[Any], limits: dict[int, int]
) -> dict[int, int]:
    """For each ``key`` value in ``limits``: how many rows of ``table`` (as ``t``) match it and
    ``where``, counting no further than its limit (so at most the limit). One query.

    Routing asks this of the open cases per agent, up to each agent's cap: past the cap an
    agent is out, so the exact load does not matter, and the work is bounded by the sum of the
    caps instead of every open case of the agents (a plain GROUP BY over the index counted
    90,000 entries for 200 agents carrying old backlogs: 20 ms; bench/case_routing.py).
    PostgreSQL takes each key's own limit; SQLite cannot correlate a LIMIT, so it counts up to
    the largest and the smaller limits are applied here.
    """
    if not limits:
        return {}
    inner = f"SELECT 1 FROM {table} t WHERE t.{key} = k.id AND {where}"  # noqa: S608 - code
    if is_postgres():
        query = (
            f"SELECT k.id, (SELECT count(*) FROM ({inner} LIMIT k.cap) AS capped) "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::bigint[]) AS k(id, cap)"
        )
        args: list[Any] = [*params, list(limits), list(limits.values())]
    else:
        marks = ", ".join(["(%s)"] * len(limits))
        query = (
            f"SELECT k.id, (SELECT count(*) FROM ({inner} LIMIT %s) AS capped) "  # noqa: S608
            f"FROM (SELECT column1 AS id FROM (VALUES {marks})) AS k"
        )
        args = [*params, max(limits.values()), *limits]
    with _cursor() as cursor:
        cursor.execute(_sql(query), args)
        found = dict(cursor.fetchall())
    return {pk: min(int(found.get(pk, 0)), cap) for pk, cap in limits.items()}


def execute_returning(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Execute a statement with a RETURNING clause (binary parameters on PostgreSQL)."""
    with _cursor() as cursor:
        cursor.execute(_sql(sql), list(params))
        return list(cursor.fetchall())


# --- tables written in plain SQL: one column list each, with PostgreSQL types ---------------

INTERACTION_TABLE = "interactions_interaction"
INTERACTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_id", "bigint"),
    ("channel", "varchar"),
    ("direction", "varchar"),
    ("type", "varchar"),
    ("stage", "varchar"),
    ("occurred_at", "timestamptz"),
    ("text", "text"),
    ("metadata", "jsonb"),
    ("staff_id", "integer"),  # auth_user.id is an int
    ("source", "varchar"),
    ("external_id", "varchar"),
    ("created_at", "timestamptz"),
)
# The idempotency key of an event: the conflict target of every interaction insert.
INTERACTION_KEY = ("source", "external_id")

IDENTITY_TABLE = "customers_identity"
IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_id", "bigint"),
    ("kind", "varchar"),
    ("value", "varchar"),
    ("is_primary", "boolean"),
    ("created_at", "timestamptz"),
)
IDENTITY_KEY = ("kind", "value")

# What a customer's timeline reads: every column of the table, in the model's field order (so
# that Model.from_db takes a row as it comes). tests/test_db.py checks it against the model.
INTERACTION_SELECT = ("id", *(name for name, _type in INTERACTION_COLUMNS), "erased_at")


@lru_cache(maxsize=256)
def timeline_sql(*, start: bool, end: bool, channels: int, types: int) -> str:
    """One customer's interactions, newest first, filtered; LIMIT and OFFSET are parameters.

    Built once per filter shape: compiling the equivalent QuerySet took longer than the query
    (0.3 ms against 0.6 ms on a 1,000,000-row table; docs/benchmarks.md). Served by the
    (customer_id, occurred_at desc, id desc) index.
    """
    where = ["customer_id = %s"]
    if start:
        where.append("occurred_at >= %s")
    if end:
        where.append("occurred_at < %s")
    if channels:
        where.append(f"channel IN ({', '.join(['%s'] * channels)})")
    if types:
        where.append(f"type IN ({', '.join(['%s'] * types)})")
    return (
        f"SELECT {', '.join(INTERACTION_SELECT)} FROM {INTERACTION_TABLE} "  # noqa: S608 - code
        f"WHERE {' AND '.join(where)} ORDER BY occurred_at DESC, id DESC LIMIT %s OFFSET %s"
    )


def timeline_rows(
    *,
    customer_id: int,
    start: Any = None,
    end: Any = None,
    channels: Sequence[str] = (),
    types: Sequence[str] = (),
    limit: int,
    offset: int = 0,
) -> list[tuple[Any, ...]]:
    """Rows (INTERACTION_SELECT order) of timeline_sql; datetimes as the driver takes them."""
    adapt = datetime_param()
    params: list[Any] = [customer_id]
    params += [adapt(moment) for moment in (start, end) if moment is not None]
    params += [*channels, *types, limit, offset]
    sql = timeline_sql(
        start=start is not None, end=end is not None, channels=len(channels), types=len(types)
    )
    with _cursor(binary=False) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


# SQLite: one multi-row INSERT … RETURNING per chunk (fewer statements than executemany, and
# the new ids come back without a second query); 12 columns × 400 rows stays under its limits.
# PostgreSQL: one INSERT … SELECT FROM unnest(arrays) per batch: one parameter per column
# whatever the batch size, so the driver does not parse a huge statement.
_INSERT_CHUNK = 400


def insert_sql(
    table: str,
    columns: Sequence[tuple[str, str]],
    conflict: Sequence[str],
    *,
    rows: int = 1,
    returning: Sequence[str] = (),
) -> str:
    """``INSERT … VALUES (…) × rows ON CONFLICT (conflict) DO NOTHING [RETURNING …]``."""
    names = ", ".join(name for name, _type in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * rows)} "  # noqa: S608 - code
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    )
    return f"{sql} RETURNING {', '.join(returning)}" if returning else sql


def insert_unnest_sql(
    table: str,
    columns: Sequence[tuple[str, str]],
    conflict: Sequence[str],
    *,
    returning: Sequence[str],
) -> str:
    """PostgreSQL: the same insert from one typed array per column."""
    names = ", ".join(name for name, _type in columns)
    arrays = ", ".join(f"%s::{pg_type}[]" for _name, pg_type in columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "  # noqa: S608 - code
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING RETURNING {', '.join(returning)}"
    )


def insert_skipping_conflicts(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    conflict: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (values in ``columns`` order); rows whose ``conflict`` key exists are
    skipped. Returns ``returning`` of the rows inserted.

    Rows are written in the order given: callers sort them by key, so that two concurrent
    writers of overlapping keys take their locks in the same order and cannot deadlock.
    """
    if not rows:
        return []
    if is_postgres():
        return execute_returning(
            insert_unnest_sql(table, columns, conflict, returning=returning),
            [list(column) for column in zip(*rows, strict=True)],
        )
    returned: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        returned += execute_returning(
            insert_sql(table, columns, conflict, rows=len(chunk), returning=returning),
            [v for row in chunk for v in row],
        )
    return returned


def interactions_insert(rows: Sequence[Sequence[Any]]) -> list[tuple[str, str, int, int]]:
    """Insert interaction rows (INTERACTION_COLUMNS order), skipping keys already stored.

    Returns (source, external_id, id, customer_id) of each row stored.
    """
    ordered = sorted(rows, key=itemgetter(9, 10))  # (source, external_id)
    return insert_skipping_conflicts(  # type: ignore[return-value]
        table=INTERACTION_TABLE,
        columns=INTERACTION_COLUMNS,
        conflict=INTERACTION_KEY,
        rows=ordered,
        returning=("source", "external_id", "id", "customer_id"),
    )


def identities_insert(rows: Sequence[Sequence[Any]]) -> set[tuple[str, str]]:
    """Insert identity rows (IDENTITY_COLUMNS order); an identity already owned is skipped.

    Returns the (kind, value) pairs stored. Sorted by key (see insert_skipping_conflicts).
    """
    ordered = sorted(rows, key=itemgetter(1, 2))  # (kind, value)
    returned = insert_skipping_conflicts(
        table=IDENTITY_TABLE,
        columns=IDENTITY_COLUMNS,
        conflict=IDENTITY_KEY,
        rows=ordered,
        returning=("kind", "value"),
    )
    return {(kind, value) for kind, value in returned}


def datetime_param() -> Callable[[Any], Any]:
    """Aware datetime → what the driver stores; SQLite keeps naive UTC text (as Django does)."""
    if connection.vendor == "sqlite":
        import datetime as dt

        def naive_utc(value: Any) -> str:
            if value.tzinfo is dt.UTC:  # most values: no conversion, one copy fewer
                return str(value.replace(tzinfo=None))
            return str(value.astimezone(dt.UTC).replace(tzinfo=None))

        return naive_utc
    return lambda value: value


# --- transient failures ---------------------------------------------------------------------


class DatabaseBusyError(RuntimeError):
    """A write lost a race with concurrent writers (deadlock, serialization failure, the same
    key inserted meanwhile, SQLite busy) more times than it retries. Nothing of it was stored;
    sending it again is safe. The API answers 503 with Retry-After."""

    retry_after = 1


class WriteConflict(OperationalError):
    """Raised by our own code when a concurrent writer changed what this write relied on."""


_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available


def is_transient(exc: BaseException) -> bool:
    """Would the same work succeed if run again? (deadlock, serialization, unique race, busy)"""
    if isinstance(exc, WriteConflict):
        return True
    if isinstance(exc, IntegrityError):
        # A unique key written by a concurrent transaction between our read and our insert.
        # (SQLite runs one writer at a time: there, a unique violation is no race.)
        return getattr(exc.__cause__, "sqlstate", None) == "23505"
    if isinstance(exc, OperationalError):
        cause = exc.__cause__
        if getattr(cause, "sqlstate", None) in _TRANSIENT_SQLSTATES:
            return True
        return "database is locked" in str(exc)  # SQLite, after busy_timeout
    return False


def retry_transient(work: Callable[[], T], *, attempts: int = 6, base_delay: float = 0.01) -> T:
    """Run ``work`` in a transaction (a savepoint inside one), again on a transient failure.

    Up to ``attempts`` runs, sleeping a random 0..base_delay·2^n seconds between them (full
    jitter, so that the writers who collided do not collide again in step). Raises
    DatabaseBusyError when every attempt failed; other errors pass through at once.
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return work()
        except DatabaseError as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts - 1:
                raise DatabaseBusyError(
                    f"the database was busy with concurrent writes ({type(exc).__name__}); "
                    "nothing was stored, send it again"
                ) from exc
            time.sleep(random.uniform(0, base_delay * 2**attempt))
    raise AssertionError("unreachable")


def datetime_adapter() -> Callable[[Any], Any]:
    """Aware datetime → what the driver takes in ``insert_rows`` (UTC text on SQLite).

    Returns a function, so that a loop over many values asks for the database only once."""
    adapt = datetime_param()
    return lambda value: None if value is None else adapt(value)


def json_adapter() -> Callable[[Any], Any]:
    """JSON value → what the driver takes in ``insert_rows``."""
    if is_postgres():
        from psycopg.types.json import Jsonb

        return Jsonb
    import json

    return lambda value: json.dumps(value, ensure_ascii=False)


def insert_rows(
    *,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: str = "",
    types: Sequence[str] = (),
) -> list[Any]:
    """Insert many rows in multi-row statements; with ``returning``, its values in row order.

    Values must be driver-ready (``datetime_adapter``, ``json_adapter``). Django's bulk_create prepares
    each value through its field (measured: 10 s of an 18 s pipeline step that writes 18k cases
    and 47k links and events on SQLite); the rows here come from a service that built them
    from validated data. Row order of RETURNING is what bulk_create relies on too.

    With ``types`` (the PostgreSQL type of each column), PostgreSQL gets one
    ``INSERT … SELECT FROM unnest(arrays)``: one parameter per column, so the driver does not
    parse a statement of thousands of placeholders (measured: 3 of 11 s of the case step);
    without ``returning``, a binary COPY (rows formatted in C; it bypasses Django's query log).
    """
    if not rows:
        return []
    if types and is_postgres() and not returning:
        # COPY in binary: the driver formats each row in C (an array parameter is built in
        # Python, element by element: measured, a third of the case step's writing).
        # Errors come out as Django's (IntegrityError on a duplicate link: callers retry).
        connection.ensure_connection()
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with (
            connection.wrap_database_errors,
            connection.connection.cursor() as raw,
            raw.copy(statement) as copy,
        ):
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)
        return []
    if types and is_postgres():
        arrays = ", ".join(f"%b::{pg_type}[]" for pg_type in types)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - code, not input
            f"SELECT * FROM unnest({arrays})" + (f" RETURNING {returning}" if returning else "")
        )
        with _cursor(binary=True) as cursor:
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
            return [r[0] for r in cursor.fetchall()] if returning else []
    if connection.vendor == "sqlite" and not returning:
        # One prepared statement run for each row by the driver's C loop (a multi-row VALUES
        # of thousands of placeholders was rewritten by a regex and bound in Python first);
        # like COPY, it bypasses Django's query log.
        connection.ensure_connection()
        marks = ", ".join(["?"] * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        with connection.wrap_database_errors:
            connection.connection.executemany(statement, rows)
        return []
    per_statement = max(1, 30000 // len(columns))  # under both databases' parameter limits
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    out: list[Any] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 - code, not input
                + ", ".join([row_marks] * len(chunk))
                + (f" RETURNING {returning}" if returning else "")
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            if returning:
                out.extend(r[0] for r in cursor.fetchall())
    return out


def insert_rows_with_ids(
    *, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], types: Sequence[str]
) -> list[int]:
    """``insert_rows`` of new rows of a table keyed by an auto-incremented ``id``; returns the
    ids given, in row order. Call inside a transaction (``transaction.atomic()``).

    PostgreSQL: the ids are drawn from the table's sequence first (one query), and the rows,
    ids included, go in by binary COPY (an ``INSERT … RETURNING`` of unnested arrays built
    its arrays in Python, value by value: measured, a tenth of the pipeline's case step).
    SQLite: the rows go in by one prepared statement run per row; the write lock that the
    transaction holds means the new ids are exactly those above the largest one before.
    """
    if not rows:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("insert_rows_with_ids needs a transaction")
    if is_postgres():
        with _cursor(binary=True) as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%b, 'id')) FROM generate_series(1, %b)",
                [table, len(rows)],
            )
            ids = sorted(r[0] for r in cursor.fetchall())
        insert_rows(
            table=table,
            columns=("id", *columns),
            rows=[(pk, *row) for pk, row in zip(ids, rows, strict=True)],
            types=("bigint", *types),
        )
        return ids
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - code
        before = cursor.fetchone()[0]
        insert_rows(table=table, columns=columns, rows=rows)
        cursor.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", [before])  # noqa: S608
        ids = [r[0] for r in cursor.fetchall()]
    if len(ids) != len(rows):  # another writer cannot be inside our write lock
        raise WriteConflict(f"{len(ids)} new rows in {table}, {len(rows)} written")
    return ids


def update_rows(
    *,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    types: Sequence[str],
    unchanged: tuple[str, str] | None = None,
) -> None:
    """``UPDATE table SET columns WHERE id = …`` for many rows in one go: each row is its id
    and then the new values of ``columns`` (driver-ready, as for ``insert_rows``; ``types``
    their PostgreSQL types). PostgreSQL: one statement over unnested arrays; SQLite: one
    prepared statement run per row by the driver. (A model ``save()`` per row cost a round
    trip and Django's preparation each: measured, a tenth of the pipeline's case step.)

    With ``unchanged`` (a column and its type), each row ends with the value that column
    must still hold: a row changed since it was read is not updated, and ``WriteConflict``
    is raised (roll the transaction back and decide again)."""
    if not rows:
        return
    guard = f" AND t.{unchanged[0]} = v.guard" if unchanged else ""
    if is_postgres():
        names = ", ".join([*columns, *(["guard"] if unchanged else [])])
        all_types = ("bigint", *types, *([unchanged[1]] if unchanged else []))
        arrays = ", ".join(f"%b::{pg_type}[]" for pg_type in all_types)
        sets = ", ".join(f"{c} = v.{c}" for c in columns)
        sql = (
            f"UPDATE {table} AS t SET {sets} FROM unnest({arrays}) AS v(id, {names}) "  # noqa: S608
            f"WHERE t.id = v.id{guard}"
        )
        with _cursor(binary=True) as cursor:
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
            updated = cursor.rowcount
    else:
        sets = ", ".join(f"{c} = ?" for c in columns)
        where = f" AND {unchanged[0]} = ?" if unchanged else ""
        statement = f"UPDATE {table} SET {sets} WHERE id = ?{where}"  # noqa: S608 - code
        width = len(columns) + 1
        params = [
            (*row[1:width], row[0], *row[width:]) if unchanged else (*row[1:], row[0])
            for row in rows
        ]
        connection.ensure_connection()
        with connection.wrap_database_errors:
            updated = connection.connection.executemany(statement, params).rowcount
    if unchanged and updated != len(rows):
        raise WriteConflict(
            f"{len(rows) - updated} of {len(rows)} rows of {table} changed meanwhile"
        )
