from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running Khoshnud: demo, serve, worker, benchmarks."""

    name = "khoshnud.ops"
    label = "ops"
