from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "khoshnud.interactions"
    label = "interactions"
    verbose_name = _("Interactions")

    def ready(self) -> None:
        from khoshnud.customers.references import customer_reference_register
        from khoshnud.interactions.models import Interaction
        from khoshnud.interactions.services.erase import interactions_blank, interactions_repoint

        customer_reference_register(
            name="interactions",
            model=Interaction,
            merge=interactions_repoint,
            erase=interactions_blank,
        )
