"""A real SMTP server inside the test (aiosmtpd), and one that refuses every message."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.cases.conftest import _english_after_each_test, shop  # noqa: F401 (fixtures)


class Inbox:
    """What the SMTP server received, parsed as the recipient's mail program would."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        return "250 OK"


class Refusing:
    """A server that answers every message with a temporary failure."""

    def __init__(self) -> None:
        self.tries = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        return "451 4.3.0 try again later"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(handler: Any, settings: Any) -> Iterator[Any]:
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Khoshnud coffee <care@shop.example>"
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    yield from _serve(Inbox(), settings)


@pytest.fixture
def refusing_smtp(settings: Any) -> Iterator[Refusing]:
    yield from _serve(Refusing(), settings)


@pytest.fixture
def provider(settings: Any) -> Iterator[Any]:
    """A local server playing Telegram, WhatsApp, Instagram and WeChat at once (their base
    URLs all point at it; the paths differ)."""
    from tests.channels.providers import FakeProvider, serve

    fake = FakeProvider()
    server = serve(fake)
    settings.TELEGRAM_API_BASE = fake.base
    settings.WHATSAPP_API_BASE = fake.base + "/v21.0"
    settings.INSTAGRAM_API_BASE = fake.base + "/v21.0"
    settings.WECHAT_API_BASE = fake.base
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
