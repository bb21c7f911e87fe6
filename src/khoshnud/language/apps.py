from django.apps import AppConfig


class LanguageConfig(AppConfig):
    name = "khoshnud.language"
    label = "language"
