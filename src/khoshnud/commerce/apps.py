from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    name = "khoshnud.commerce"
    label = "commerce"
    verbose_name = _("Purchases")

    def ready(self) -> None:
        from khoshnud.commerce.models import Order
        from khoshnud.customers.references import customer_reference_register

        customer_reference_register(
            name="orders",
            model=Order,
            keep="bookkeeping records without message text: an erasure keeps them",
        )
