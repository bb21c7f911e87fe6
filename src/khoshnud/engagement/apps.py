from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    """Proactive outreach: occasions, rules, templates, the scheduler and its sends."""

    name = "khoshnud.engagement"
    label = "engagement"
    verbose_name = _("Outreach")

    def ready(self) -> None:
        from khoshnud.customers.signals import personal_dates_changed
        from khoshnud.engagement.tasks import engagement_pass, occasions_refresh
        from khoshnud.ops.periodic import register_periodic

        def _changed(sender: object, customer_ids: list[int], **kwargs: object) -> None:
            from khoshnud.engagement.occasions import occasions_sync

            occasions_sync(customer_ids=customer_ids)

        personal_dates_changed.connect(_changed, weak=False, dispatch_uid="engagement.occasions")
        register_periodic("engagement.pass", every=300, task=engagement_pass)
        register_periodic("engagement.occasions", every=3600, task=occasions_refresh)
        _register_references()


def _register_references() -> None:
    from khoshnud.customers.references import customer_reference_register
    from khoshnud.engagement.models import Occasion, Send, Trigger
    from khoshnud.engagement.services import (
        sends_erase,
        sends_merge,
        triggers_merge,
    )

    customer_reference_register(
        name="occasions",
        model=Occasion,
        merge=None,
        erase=None,
        keep="derived from personal dates: rebuilt for both customers after a merge",
    )
    customer_reference_register(
        name="outreach_sends", model=Send, merge=sends_merge, erase=sends_erase
    )
    customer_reference_register(
        name="outreach_triggers",
        model=Trigger,
        merge=triggers_merge,
        erase=None,
        keep="event names and keys, no message text",
    )
