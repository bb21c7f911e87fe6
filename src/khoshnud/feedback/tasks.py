"""Background tasks of the feedback app (thin: they call a service)."""

from __future__ import annotations

from django_tasks import task

from khoshnud.feedback.triggers import case_invitation_due, triggers_sweep


@task()
def invite_after_case(survey_id: int, case_id: int) -> str:
    """Invite a resolved case's customer to a survey once its delay has passed."""
    return case_invitation_due(survey_id=int(survey_id), case_id=int(case_id))


@task()
def surveys_sweep() -> str:
    """The periodic job: every automatic invitation that is due."""
    count = triggers_sweep()
    return f"invited {count.invited}, refused by fatigue {count.refused}"
