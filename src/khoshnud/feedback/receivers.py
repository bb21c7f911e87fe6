"""What the feedback app does when other apps announce something."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from khoshnud.cases.models import Case


def on_case_resolved(sender: Any, *, case_id: int, actor_id: int | None, **kwargs: Any) -> None:
    """A case was resolved (after commit): judge it, and queue the surveys that follow it,
    each to run after its delay (the sweep sends it if this queue cannot defer)."""
    from khoshnud.feedback.recovery import recoveries_case_resolved
    from khoshnud.feedback.tasks import invite_after_case
    from khoshnud.feedback.triggers import surveys_after_case
    from khoshnud.feedback.verdicts import case_verdict_decide

    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.resolved_at is None:
        return
    case_verdict_decide(case_id=case.pk)
    recoveries_case_resolved(case_id=case.pk)
    for survey in surveys_after_case(case):
        task = invite_after_case
        run_after = case.resolved_at + dt.timedelta(hours=survey.delay_hours)
        if run_after > timezone.now() and task.get_backend().supports_defer:
            task = task.using(run_after=run_after)
        task.enqueue(survey.pk, case.pk)
