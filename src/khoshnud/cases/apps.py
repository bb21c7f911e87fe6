from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "khoshnud.cases"
    label = "cases"
