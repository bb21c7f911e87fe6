"""What the feedback app does when other apps announce something."""

from __future__ import annotations

from typing import Any


def on_case_resolved(sender: Any, *, case_id: int, actor_id: int | None, **kwargs: Any) -> None:
    """A case was resolved (sent after commit): the queue judges it, closes its care
    follow-up and schedules the surveys that follow it — a failure there never reaches the
    agent who resolved the case, and the task is retried."""
    from khoshnud.feedback.tasks import after_case_resolved

    after_case_resolved.enqueue(int(case_id))
