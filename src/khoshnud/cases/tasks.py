"""Background tasks of the cases app (thin: they call a service). Both run on a clock
(``register_periodic`` in ``CasesConfig.ready``) and are idempotent."""

from __future__ import annotations

from django_tasks import task

from khoshnud.cases.sla import breach_scan


@task()
def scan_breaches() -> int:
    """``cases.breach_scan``: record missed targets, raise priorities, notify team leads."""
    return breach_scan().breaches


@task()
def run_rules() -> int:
    """``cases.automations``: the managers' time-based rules (remind, close, escalate)."""
    from khoshnud.cases.rules import case_rules_run

    done = case_rules_run()
    return done.reminded + done.closed + done.escalated


@task()
def open_follow_up(case_id: int) -> int | None:
    """The care follow-up of a resolved case, when a hand-off rule asks for it (idempotent)."""
    from khoshnud.cases.rules import case_follow_up_open

    new = case_follow_up_open(case_id=int(case_id))
    return new.pk if new is not None else None
