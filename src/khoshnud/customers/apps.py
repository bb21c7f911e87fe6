from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "khoshnud.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from khoshnud.accounts.models import AuditLog
        from khoshnud.customers.models import Consent, Customer, Identity, PersonalDate
        from khoshnud.customers.references import customer_reference_register as register

        kept = "facts about the person, not what they said: an erasure of their messages keeps it"
        register(name="identities", model=Identity, keep=kept)
        register(name="personal_dates", model=PersonalDate, keep=kept)
        register(name="consents", model=Consent, keep="evidence of what the customer allowed")
        # Customers merged into the merged one earlier now point at the survivor directly.
        register(
            name="merged_customers",
            model=Customer,
            field="merged_into_id",
            keep="a link between customer records, no personal content",
        )
        # accounts sits below customers: its customer reference is registered here.
        register(
            name="audit",
            model=AuditLog,
            merge=None,
            keep="the audit log records what was done to whom, as it was; never rewritten",
        )
