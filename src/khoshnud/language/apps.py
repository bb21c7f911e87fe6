from django.apps import AppConfig


class LanguageConfig(AppConfig):
    name = "khoshnud.language"
    label = "language"

    def ready(self) -> None:
        from khoshnud.customers.references import customer_reference_register
        from khoshnud.language.models import MessageAnalysis
        from khoshnud.language.services import analyses_erase

        # What was read from a message goes with the message: an erasure deletes it.
        customer_reference_register(name="analyses", model=MessageAnalysis, erase=analyses_erase)
