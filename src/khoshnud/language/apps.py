from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LanguageConfig(AppConfig):
    name = "khoshnud.language"
    label = "language"
    verbose_name = _("Language analysis")

    def ready(self) -> None:
        from khoshnud.customers.references import customer_reference_register
        from khoshnud.language.models import MessageAnalysis
        from khoshnud.language.services import analyses_erase

        # What was read from a message goes with the message: an erasure deletes it.
        customer_reference_register(name="analyses", model=MessageAnalysis, erase=analyses_erase)
