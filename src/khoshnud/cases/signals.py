"""What the cases app announces to other apps (surveys, care follow-ups…), after commit.

``case_resolved`` is sent once the transaction that resolved a case has committed, with
``case_id`` and ``actor_id`` (None when the system resolved it). A receiver that writes must
be idempotent (a case can be resolved, reopened and resolved again: it is sent each time).
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

case_resolved = Signal()


def announce_resolved(*, case_id: int, actor_id: int | None) -> None:
    """Send ``case_resolved`` when the current transaction commits (at once outside one)."""
    transaction.on_commit(
        lambda: case_resolved.send(sender="cases", case_id=case_id, actor_id=actor_id)
    )
