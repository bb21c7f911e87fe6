from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "khoshnud.customers"
    label = "customers"
