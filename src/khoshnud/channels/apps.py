from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    """Inbound adapters (CSV today; email, Telegram, Instagram later) and outbound senders."""

    name = "khoshnud.channels"
    label = "channels"
