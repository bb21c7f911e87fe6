"""Outbound adapters: one per channel, found by the channel's name.

``settings.KHOSHNUD_OUTBOUND_ADAPTERS`` maps a channel to the dotted path of its adapter
(email; Telegram, WhatsApp, Instagram and WeChat in channels.messaging). An adapter says where a customer
is reached on its channel, prepares what the outbound interaction records (its metadata: for
email the Message-ID and threading headers), and sends a stored interaction. Sending happens
only in a queued task (``channels.tasks.deliver``), never in a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from khoshnud.interactions.models import Interaction


@dataclass(frozen=True)
class ReplyDraft:
    """What a reply needs before it is stored."""

    customer_id: int
    address: str
    text: str
    subject: str
    locale: str  # the customer's language (fa, zh-hans, en): direction and lang of the HTML
    # Message ids of the thread's earlier messages on this channel, oldest first; the last
    # inbound one is what the reply answers.
    thread: Sequence[str] = field(default_factory=tuple)
    answers: str = ""
    # A provider's pre-approved message (WhatsApp's templates: the only kind that may go
    # outside its 24-hour window): {"name", "language", "params"}; None for free text.
    template: dict[str, Any] | None = None


class OutboundAdapter(Protocol):
    channel: str
    source: str  # the interaction log's source for what this adapter sends and receives

    def address(self, *, customer_id: int, answering: int | None = None) -> str | None:
        """Where the customer is reached on this channel; None when they are not.
        ``answering``: the inbound interaction a reply answers (a messaging reply leaves by
        the account that message came in by)."""

    def prepare(self, *, draft: ReplyDraft) -> tuple[str, dict[str, Any]]:
        """(external id, metadata) of the outbound interaction about to be stored."""

    def send(self, *, interaction: Interaction, address: str) -> str | None:
        """Send a stored interaction; the provider's message id, if it gives one. Raises on
        failure: ``provider_http.PermanentSendError`` fails the delivery at once, anything
        else is retried after a back-off."""


class NoAdapter(LookupError):
    """No adapter sends on this channel (yet)."""


@cache
def _adapter(path: str) -> OutboundAdapter:
    adapter: OutboundAdapter = import_string(path)()
    return adapter


def outbound_channels() -> list[str]:
    return sorted(settings.KHOSHNUD_OUTBOUND_ADAPTERS)


def outbound_adapter(channel: str) -> OutboundAdapter:
    """The adapter for ``channel``; ``NoAdapter`` with a readable message when there is none."""
    path = settings.KHOSHNUD_OUTBOUND_ADAPTERS.get(channel)
    if path is None:
        raise NoAdapter(
            f"replies by {channel} are not sent yet; channels that can send: "
            f"{', '.join(outbound_channels()) or 'none'}"
        )
    return _adapter(path)
