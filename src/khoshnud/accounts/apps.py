from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "khoshnud.accounts"
    label = "accounts"
    verbose_name = _("Staff and access")

    def ready(self) -> None:
        from khoshnud.accounts import checks  # noqa: F401 - registers the deployment check
