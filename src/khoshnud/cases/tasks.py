"""Background tasks of the cases app (thin: they call a service). Both run on a clock
(``register_periodic`` in ``CasesConfig.ready``) and are idempotent."""

from __future__ import annotations

from django_tasks import task

from khoshnud.cases.sla import breach_scan


@task()
def scan_breaches() -> int:
    """``cases.breach_scan``: record missed targets, raise priorities, notify team leads."""
    return breach_scan().breaches
