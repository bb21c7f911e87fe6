from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """The managers' dashboards: daily rollups of the service and feedback figures."""

    name = "khoshnud.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from khoshnud.insights.tasks import rollups_refresh_task
        from khoshnud.ops.periodic import register_periodic

        # Today's figures (and the days touched since the last run) every minute.
        register_periodic("insights.refresh", every=60, task=rollups_refresh_task)
