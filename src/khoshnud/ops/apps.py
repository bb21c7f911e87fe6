from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running Khoshnud: demo, serve, worker, benchmarks."""

    name = "khoshnud.ops"
    label = "ops"
    verbose_name = _("Operations")
