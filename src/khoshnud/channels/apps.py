from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    """Inbound adapters (CSV today; email, Telegram, Instagram later) and outbound senders."""

    name = "khoshnud.channels"
    label = "channels"
    verbose_name = _("Channels")
