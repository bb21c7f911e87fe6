"""The occasion index: every customer's recurring dates with their next occurrence, stored.

Why stored: "whose birthday is tomorrow" over a million customers must not compute a million
next occurrences (a lunar conversion each). The next occurrence depends only on the date's
(calendar, month, day), not on the customer, so a refresh computes it once per distinct
(calendar, month, day) — at most 3 × 12 × 31 of them — and writes it with one UPDATE … FROM
(VALUES …) join. "Occasions on day D" is then an index range scan on ``next_date``.

Rules of the next occurrence (``calendars.next_occurrence``): 30 Esfand in a year without
one falls on 29 Esfand, 29 February on 28 February, a lunar 30th on the 29th, and a date in a
lunar leap month recurs in the regular month of that number.

Kept up to date: customers announce new or moved dates (``customers.signals``) and this
module rebuilds those customers' rows at once; the periodic job ``engagement.occasions`` and
every scheduler pass also run ``occasions_sync()``, which finds missing, changed and passed
rows with a few set-based queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from khoshnud.calendars import CalendarDate, next_occurrence
from khoshnud.customers.models import Customer, PersonalDate
from khoshnud.engagement.models import Occasion, OccasionKind

_UNSET = dt.date(1970, 1, 1)  # next_date of a row not computed yet (always "passed")
_CHUNK = 500


def index_start(today: dt.date | None = None) -> dt.date:
    """The first day kept as a "next occurrence": yesterday in UTC, so that the day is still
    found everywhere on Earth where it is still that day (UTC−12 … UTC+14)."""
    return (today or timezone.now().date()) - dt.timedelta(days=1)


def _tables() -> dict[str, str]:
    return {
        "occ": Occasion._meta.db_table,
        "pd": PersonalDate._meta.db_table,
        "cu": Customer._meta.db_table,
    }


def _insert_missing(customer_ids: list[int] | None, *, newest_only: bool = False) -> int:
    """Rows for personal dates and customer-since days that have none (set-based SQL).
    ``newest_only``: only dates and customers newer than any indexed (two index look-ups
    instead of two anti-joins over every row: what each scheduler pass does)."""
    t = _tables()
    only_pd = only_cu = ""
    if customer_ids is not None:
        marks = ",".join(["%s"] * len(customer_ids))
        only_pd = f" AND pd.customer_id IN ({marks})"
        only_cu = f" AND cu.id IN ({marks})"
    elif newest_only:
        newest_pd = f"SELECT COALESCE(MAX(personal_date_id), 0) FROM {t['occ']}"  # noqa: S608
        newest_cu = (
            f"SELECT COALESCE(MAX(customer_id), 0) FROM {t['occ']} "  # noqa: S608
            "WHERE personal_date_id IS NULL"
        )
        only_pd = f" AND pd.id > ({newest_pd})"
        only_cu = f" AND cu.id > ({newest_cu})"
    if connection.vendor == "postgresql":
        month = "EXTRACT(MONTH FROM cu.created_at AT TIME ZONE 'UTC')::int"
        day = "EXTRACT(DAY FROM cu.created_at AT TIME ZONE 'UTC')::int"
        year = "EXTRACT(YEAR FROM cu.created_at AT TIME ZONE 'UTC')::int"
    else:
        month = "CAST(strftime('%%m', cu.created_at) AS INTEGER)"
        day = "CAST(strftime('%%d', cu.created_at) AS INTEGER)"
        year = "CAST(strftime('%%Y', cu.created_at) AS INTEGER)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {t["occ"]} (customer_id, personal_date_id, kind, label, calendar,
                    year, month, day, leap_month, next_date)
                SELECT pd.customer_id, pd.id, pd.kind, pd.label, pd.calendar, pd.year, pd.month,
                       pd.day, pd.leap_month, %s
                FROM {t["pd"]} pd
                WHERE NOT EXISTS (SELECT 1 FROM {t["occ"]} o WHERE o.personal_date_id = pd.id)
                {only_pd}""",  # noqa: S608 - table names and marks, no input
            [_UNSET, *(customer_ids or [])],
        )
        added = cursor.rowcount
        # The customer-since anniversary: the Gregorian day (UTC) the customer was created.
        cursor.execute(
            f"""INSERT INTO {t["occ"]} (customer_id, personal_date_id, kind, label, calendar,
                    year, month, day, leap_month, next_date)
                SELECT cu.id, NULL, %s, '', 'gregorian', {year}, {month}, {day}, %s, %s
                FROM {t["cu"]} cu
                WHERE cu.merged_into_id IS NULL AND NOT EXISTS (
                    SELECT 1 FROM {t["occ"]} o
                    WHERE o.customer_id = cu.id AND o.personal_date_id IS NULL)
                {only_cu}""",  # noqa: S608 - table names and marks, no input
            [OccasionKind.CUSTOMER_SINCE, False, _UNSET, *(customer_ids or [])],
        )
        added += cursor.rowcount
    return added


def _drop_changed() -> int:
    """Delete rows whose personal date changed (moved to another customer by a merge, edited
    in the admin) or whose customer was merged away; ``_insert_missing`` rebuilds them."""
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {t["occ"]} WHERE id IN (
                    SELECT o.id FROM {t["occ"]} o JOIN {t["pd"]} pd ON pd.id = o.personal_date_id
                    WHERE o.customer_id <> pd.customer_id OR o.kind <> pd.kind
                       OR o.calendar <> pd.calendar OR o.month <> pd.month OR o.day <> pd.day
                       OR o.leap_month <> pd.leap_month OR o.label <> pd.label)"""  # noqa: S608 - table names
        )
        dropped = cursor.rowcount
        cursor.execute(
            f"""DELETE FROM {t["occ"]} WHERE personal_date_id IS NULL AND customer_id IN (
                    SELECT id FROM {t["cu"]} WHERE merged_into_id IS NOT NULL)"""  # noqa: S608 - table names
        )
        return dropped + cursor.rowcount


def _advance(start: dt.date) -> int:
    """Set ``next_date`` of every row whose occurrence has passed (or was never computed):
    one next occurrence per distinct (calendar, month, day), written by one UPDATE."""
    stale = (
        Occasion.objects.filter(next_date__lt=start)
        .values_list("calendar", "month", "day")
        .distinct()
    )
    values = [
        (calendar, month, day, next_occurrence(CalendarDate(calendar, None, month, day), start))
        for calendar, month, day in stale
    ]
    if not values:
        return 0
    table = Occasion._meta.db_table
    changed = 0
    with connection.cursor() as cursor:
        for i in range(0, len(values), _CHUNK):
            part = values[i : i + _CHUNK]
            rows = ",".join(["(%s, %s, %s, %s)"] * len(part))
            cast = "::date" if connection.vendor == "postgresql" else ""
            params = [x for row in part for x in row]
            cursor.execute(
                f"""WITH v(cal, m, d, nd) AS (VALUES {rows})
                    UPDATE {table} SET next_date = v.nd{cast} FROM v
                    WHERE v.cal = {table}.calendar AND v.m = {table}.month
                      AND v.d = {table}.day AND {table}.next_date < %s""",  # noqa: S608 - table names and marks, no input
                [*params, start],
            )
            changed += cursor.rowcount
    return changed


@transaction.atomic
def occasions_sync(
    *,
    customer_ids: Iterable[int] | None = None,
    today: dt.date | None = None,
    quick: bool = False,
) -> int:
    """Bring the occasion index up to date; returns the rows added or moved on.

    ``customer_ids``: rebuild only these customers' rows (after their dates changed).
    ``quick`` (each scheduler pass): index dates and customers newer than any indexed, move
    passed rows on. Otherwise (the hourly job) also find missing and changed rows everywhere:
    at 1,000,000 customers that full check takes seconds, the quick one milliseconds
    (docs/benchmarks.md). Idempotent, transactional.
    """
    ids = None if customer_ids is None else sorted({int(i) for i in customer_ids})
    if ids is not None:
        if not ids:
            return 0
        Occasion.objects.filter(customer_id__in=ids).delete()
        added = 0
        for i in range(0, len(ids), _CHUNK):
            added += _insert_missing(ids[i : i + _CHUNK])
    elif quick:
        added = _insert_missing(None, newest_only=True)
    else:
        _drop_changed()
        added = _insert_missing(None)
    return added + _advance(index_start(today))
