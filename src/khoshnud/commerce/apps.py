from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "khoshnud.commerce"
    label = "commerce"
