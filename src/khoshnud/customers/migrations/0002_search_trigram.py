"""A trigram index for customer search on PostgreSQL (substring match on search_text).

Needs the pg_trgm extension; where the database user may not create it, the index is skipped
(search still works, by scanning) and a warning says so. SQLite has no such index.
"""

import warnings

from django.db import migrations

INDEX = "customers_customer_search_trgm"


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SAVEPOINT trgm")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # noqa: BLE001 - permission: keep migrating without the index
            cursor.execute("ROLLBACK TO SAVEPOINT trgm")
            warnings.warn(f"pg_trgm unavailable ({exc}); customer search will scan", stacklevel=1)
            return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON customers_customer "
            "USING gin (search_text gin_trgm_ops)"
        )


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
