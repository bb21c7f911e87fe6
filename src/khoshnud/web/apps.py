from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "khoshnud.web"
    label = "web"
