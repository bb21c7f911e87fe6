from django.apps import AppConfig


class ServiceLevelsConfig(AppConfig):
    name = "khoshnud.servicelevels"
    label = "servicelevels"
