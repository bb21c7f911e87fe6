from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "khoshnud.interactions"
    label = "interactions"
