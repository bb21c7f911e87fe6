from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "khoshnud.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from khoshnud.cases.models import Case
        from khoshnud.cases.services import cases_erase_subjects
        from khoshnud.customers.references import customer_reference_register

        # A merged customer's cases go to the survivor; an erasure blanks their subjects.
        customer_reference_register(name="cases", model=Case, erase=cases_erase_subjects)

        from khoshnud.cases import tasks
        from khoshnud.ops.periodic import register_periodic

        # The SLA breach scan (cases/sla.py), every minute; KHOSHNUD_PERIODIC overrides it.
        register_periodic("cases.breach_scan", every=60, task=tasks.scan_breaches)
        # The managers' time-based rules (cases/rules.py).
        register_periodic("cases.automations", every=60, task=tasks.run_rules)

        from khoshnud.cases.rules import follow_up_on_resolved
        from khoshnud.cases.signals import case_resolved

        # Hand-off rules: a care follow-up after a resolution (queued, idempotent).
        case_resolved.connect(follow_up_on_resolved, dispatch_uid="cases.follow_up")
