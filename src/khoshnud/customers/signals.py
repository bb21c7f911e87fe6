"""What the customers app announces to apps above it, after commit.

``personal_dates_changed`` is sent with ``customer_ids`` once a transaction that added or
moved personal dates has committed (engagement keeps its occasion index by it). A receiver
must be idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

personal_dates_changed = Signal()


def announce_dates_changed(*, customer_ids: Iterable[int]) -> None:
    """Send ``personal_dates_changed`` when the current transaction commits."""
    ids = sorted(set(customer_ids))
    if ids:
        transaction.on_commit(
            lambda: personal_dates_changed.send(sender="customers", customer_ids=ids)
        )
