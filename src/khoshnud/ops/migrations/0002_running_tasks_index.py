"""A small partial index for the workers' reclaim sweep.

Every worker looks for RUNNING tasks every lease/4 seconds. django-tasks-db indexes READY
tasks only, and finished rows stay in the table until pruned, so without this index each
sweep would scan the whole queue table. Written as SQL because the table belongs to
django-tasks-db (its models are not ours to change); both SQLite and PostgreSQL accept it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_worker_heartbeat"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS ops_tasks_running_idx "
            "ON django_tasks_database_dbtaskresult (backend_name) WHERE status = 'RUNNING'",
            "DROP INDEX IF EXISTS ops_tasks_running_idx",
        ),
    ]
