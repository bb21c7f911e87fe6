"""The plain SQL of db.py: its column lists match the tables, its conflict targets are explicit,
it skips stored keys, and its statements are counted like any query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from khoshnud.customers.models import Customer, Identity
from khoshnud.db import (
    IDENTITY_COLUMNS,
    IDENTITY_TABLE,
    INTERACTION_COLUMNS,
    INTERACTION_TABLE,
    identities_insert,
    insert_sql,
    insert_unnest_sql,
    interactions_insert,
)
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest
from tests.conftest import event

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="checks PostgreSQL's own catalogue and types"
)

# information_schema.columns.udt_name of each type db.py casts to
_UDT = {
    "bigint": "int8",
    "integer": "int4",
    "varchar": "varchar",
    "text": "text",
    "jsonb": "jsonb",
    "timestamptz": "timestamptz",
    "boolean": "bool",
}


@pytest.mark.parametrize(
    ("model", "table", "columns"),
    [
        (Interaction, INTERACTION_TABLE, INTERACTION_COLUMNS),
        (Identity, IDENTITY_TABLE, IDENTITY_COLUMNS),
    ],
)
def test_column_lists_are_the_models_columns(model, table, columns) -> None:  # type: ignore[no-untyped-def]
    assert model._meta.db_table == table
    names = {f.column for f in model._meta.concrete_fields}
    listed = [name for name, _type in columns]
    assert len(listed) == len(set(listed))
    # every column but the id (and the erasure mark, set only by an erasure) is written
    assert set(listed) == names - {"id", "erased_at"}


@postgres_only
@pytest.mark.parametrize(
    ("table", "columns"),
    [(INTERACTION_TABLE, INTERACTION_COLUMNS), (IDENTITY_TABLE, IDENTITY_COLUMNS)],
)
def test_column_types_are_the_tables_types_on_postgres(table, columns) -> None:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = %s",
            [table],
        )
        actual = dict(cursor.fetchall())
    assert {name: _UDT[pg_type] for name, pg_type in columns} == {
        name: actual[name] for name, _type in columns
    }


def test_conflict_targets_are_explicit() -> None:
    sql = insert_sql(INTERACTION_TABLE, INTERACTION_COLUMNS, ("source", "external_id"), rows=2)
    assert sql.endswith("ON CONFLICT (source, external_id) DO NOTHING")
    assert sql.count("(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)") == 2
    unnest = insert_unnest_sql(
        IDENTITY_TABLE, IDENTITY_COLUMNS, ("kind", "value"), returning=("kind", "value")
    )
    assert "unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::boolean[]" in unnest
    assert unnest.endswith("ON CONFLICT (kind, value) DO NOTHING RETURNING kind, value")


def _row(customer_id: int, external_id: str, source: str = "s") -> tuple:
    when = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    if connection.vendor == "sqlite":
        when = str(when.replace(tzinfo=None))  # type: ignore[assignment]
    return (customer_id, "email", "inbound", "message", "", when, "hi", "{}", None, source,
            external_id, when)  # fmt: skip


def test_interactions_insert_stores_new_keys_and_skips_stored_ones() -> None:
    customer = Customer.objects.create(first_name="A")
    first = interactions_insert([_row(customer.pk, "b"), _row(customer.pk, "a")])
    assert sorted((s, e, c) for s, e, _i, c in first) == [
        ("s", "a", customer.pk),
        ("s", "b", customer.pk),
    ]
    again = interactions_insert([_row(customer.pk, "a"), _row(customer.pk, "c")])
    assert [(s, e) for s, e, _i, _c in again] == [("s", "c")]
    stored = dict(Interaction.objects.values_list("external_id", "id"))
    assert sorted(stored) == ["a", "b", "c"]
    assert {e: i for _s, e, i, _c in first + again} == stored


def test_identities_insert_skips_an_owned_identity() -> None:
    a = Customer.objects.create(first_name="A")
    b = Customer.objects.create(first_name="B")
    now = timezone_now_param()
    assert identities_insert([(a.pk, "email", "a@x.org", False, now)]) == {("email", "a@x.org")}
    stored = identities_insert(
        [(b.pk, "phone", "+989121234567", False, now), (b.pk, "email", "a@x.org", False, now)]
    )
    assert stored == {("phone", "+989121234567")}
    assert dict(Identity.objects.values_list("value", "customer_id")) == {
        "a@x.org": a.pk,
        "+989121234567": b.pk,
    }


def timezone_now_param() -> object:
    from django.utils import timezone

    from khoshnud.db import datetime_param

    return datetime_param()(timezone.now())


def test_ingestions_plain_sql_is_seen_by_the_query_log() -> None:
    """django_assert_num_queries counts through the same log: the plain SQL must be in it."""
    with CaptureQueriesContext(connection) as ctx:
        [result] = events_ingest(events=[event()])
    assert result.status == "created"
    sqls = [q["sql"] for q in ctx.captured_queries]
    inserts = [s for s in sqls if s.startswith(f"INSERT INTO {INTERACTION_TABLE}")]
    assert len(inserts) == 1 and "ON CONFLICT (source, external_id) DO NOTHING" in inserts[0]
    identity_inserts = [s for s in sqls if s.startswith(f"INSERT INTO {IDENTITY_TABLE}")]
    assert len(identity_inserts) == 1 and "ON CONFLICT (kind, value)" in identity_inserts[0]


def test_ingesting_a_batch_takes_a_fixed_number_of_queries(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    """100 events of 10 customers (5 known, 5 new): the same statements as for one event."""
    for i in range(5):
        events_ingest(events=[event(external_id=f"k{i}", customer={"email": f"c{i}@x.org"})])
    batch = [event(external_id=f"e{n}", customer={"email": f"c{n % 10}@x.org"}) for n in range(100)]
    # savepoint, identities, new customers, new identities, interactions, release: 6
    # statements (no staff, no known customer gaining an identity, no key stored before)
    with django_assert_num_queries(6):
        results = events_ingest(events=batch)
    assert [r.status for r in results] == ["created"] * 100
    assert Customer.objects.count() == 10
    # A replay: savepoint, identities, the insert (skips every key), one look-up of what is
    # stored, release.
    with django_assert_num_queries(5):
        replay = events_ingest(events=batch)
    assert [(r.status, r.id) for r in replay] == [("duplicate", r.id) for r in results]
    assert Customer.objects.count() == 10


@postgres_only
def test_one_index_per_way_the_log_is_read() -> None:
    """Each index costs every insert: only the ones a read uses (no lone customer_id index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT regexp_replace(indexdef, '^.* USING btree ', ''), "
            "indexdef LIKE 'CREATE UNIQUE %%' FROM pg_indexes WHERE tablename = %s ORDER BY 1",
            [INTERACTION_TABLE],
        )
        indexes = cursor.fetchall()
    assert indexes == [
        ("(customer_id, occurred_at DESC, id DESC)", False),  # timelines, merge, erasure
        ("(id)", True),
        ("(occurred_at)", False),  # periods across customers
        # The idempotency key, unique on its own: a table partitioned by month or distributed by
        # customer cannot keep this; docs/architecture.md says what replaces it then.
        ("(source, external_id)", True),
        ("(staff_id)", False),
    ]


@pytest.mark.django_db(transaction=True)
def test_insert_rows_reports_a_duplicate_as_djangos_integrity_error() -> None:
    # The case step retries on IntegrityError; on PostgreSQL the links go in by COPY, whose
    # errors must come out as Django's too. Nothing of the failed batch stays.
    from django.db import IntegrityError, transaction

    from khoshnud.db import insert_rows

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE copy_probe (id integer PRIMARY KEY, name text)")
    try:
        insert_rows(table="copy_probe", columns=("id", "name"), rows=[(1, "a")],
                    types=("integer", "text"))  # fmt: skip
        with pytest.raises(IntegrityError), transaction.atomic():
            insert_rows(table="copy_probe", columns=("id", "name"), rows=[(2, "b"), (1, "c")],
                        types=("integer", "text"))  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, name FROM copy_probe ORDER BY id")
            assert cursor.fetchall() == [(1, "a")]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE copy_probe")


@pytest.mark.django_db(transaction=True)
def test_insert_rows_with_ids_gives_each_row_its_id_and_update_rows_changes_only_those() -> None:
    # The case step writes new cases and their links in one go (it needs the cases' ids before
    # the links) and then updates the cases it touched, one statement per set of fields.
    from django.db import transaction

    from khoshnud.db import insert_rows_with_ids, update_rows

    key = (
        "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        if connection.vendor == "postgresql"
        else "id integer PRIMARY KEY AUTOINCREMENT"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE ids_probe ({key}, name text, n integer)")
    try:
        with transaction.atomic():
            first = insert_rows_with_ids(table="ids_probe", columns=("name", "n"),
                                         rows=[("a", 1)], types=("text", "integer"))  # fmt: skip
        with transaction.atomic():
            ids = insert_rows_with_ids(
                table="ids_probe",
                columns=("name", "n"),
                rows=[("b", 2), ("c", 3), ("d", 4)],
                types=("text", "integer"),
            )
        assert len(set(ids)) == 3 and min(ids) > first[0]
        with transaction.atomic():
            update_rows(table="ids_probe", columns=("name", "n"),
                        rows=[(ids[0], "B", 20), (ids[2], "D", 40)], types=("text", "integer"))  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, name, n FROM ids_probe ORDER BY id")
            assert cursor.fetchall() == [
                (first[0], "a", 1), (ids[0], "B", 20), (ids[1], "c", 3), (ids[2], "D", 40)
            ]  # fmt: skip
        with pytest.raises(RuntimeError, match="needs a transaction"):
            insert_rows_with_ids(table="ids_probe", columns=("name", "n"), rows=[("e", 5)],
                                 types=("text", "integer"))  # fmt: skip
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE ids_probe")
