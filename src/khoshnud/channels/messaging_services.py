"""Writes for messaging channels: channel accounts, webhook intake, receipts, test sends.

Inbound messages are stored through ingestion (``events_ingest``, as ``/api/v1/events``
does), so the pipeline (classification, then the case step) runs on them after commit; the
log's (source, external id) = (provider, "<account id>:<provider's message id>") makes a
provider's retry of the same message a duplicate, never a second interaction.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from khoshnud.channels import credentials as creds
from khoshnud.channels import webhooks as hooks
from khoshnud.channels.messaging import credentials_accepted
from khoshnud.channels.models import ChannelAccount, Delivery, DeliveryStatus, Provider
from khoshnud.channels.outbound import outbound_adapter
from khoshnud.channels.provider_http import SendError
from khoshnud.customers.identities import IdentityError, normalize_identity
from khoshnud.inputs import InputError, clean_choice, clean_str
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest

logger = logging.getLogger(__name__)
TEST_TEXT = "Khoshnud: test message / پیام آزمایشی / 测试消息"
# A receipt only moves a delivery forward (a late "delivered" does not undo "read").
_RANK = {DeliveryStatus.SENT: 1, DeliveryStatus.DELIVERED: 2, DeliveryStatus.READ: 3}


def account_create(*, provider: object, name: object, credentials: object) -> ChannelAccount:
    """Create a channel account with its credentials encrypted and a random webhook slug.
    Raises ``InputError`` (nothing stored) for an unknown provider, an empty name, or
    credentials without the provider's required keys."""
    chosen = clean_choice(provider, field="provider", allowed=frozenset(Provider.values))
    label = clean_str(name, field="name", max_length=100)
    values = creds.credentials_clean(chosen, credentials)
    return ChannelAccount.objects.create(
        provider=chosen,
        name=label,
        slug=secrets.token_urlsafe(24),
        credentials_encrypted=creds.encrypt(values),
    )


def account_update(
    *,
    account: ChannelAccount,
    name: object = None,
    credentials: object = None,
    is_active: object = None,
) -> ChannelAccount:
    """Change an account's name, credentials or whether it is on; ``None`` leaves a field as
    it is. Credentials are write-only: the keys given replace the stored ones, the others are
    kept (so one rotated token is enough); a refusal recorded earlier and WeChat's cached
    access token are dropped with them. Raises ``InputError`` (nothing changed)."""
    fields: list[str] = []
    if name is not None:
        account.name = clean_str(name, field="name", max_length=100)
        fields.append("name")
    if is_active is not None:
        if not isinstance(is_active, bool):
            raise InputError("is_active", "must be true or false")
        account.is_active = is_active
        fields.append("is_active")
    if credentials is not None:
        if not isinstance(credentials, dict):
            raise InputError("credentials", "must be an object")
        given = {k: v for k, v in credentials.items() if v not in (None, "")}
        try:
            stored = creds.decrypt(account.credentials_encrypted)
        except creds.CredentialsUnreadable:
            stored = {}  # the key changed: every required key must be given again
        values = creds.credentials_clean(account.provider, stored | given)
        account.credentials_encrypted = creds.encrypt(values)
        account.access_token_encrypted, account.access_token_expires_at = "", None
        account.credentials_error, account.credentials_error_at = "", None
        fields += ["credentials_encrypted", "access_token_encrypted", "access_token_expires_at",
                   "credentials_error", "credentials_error_at"]  # fmt: skip
    if fields:
        account.save(update_fields=fields)
    return account


class AccountInUse(Exception):
    """An account messages came in or went out by is not deleted (switch it off instead)."""


def account_delete(*, account: ChannelAccount) -> None:
    """Delete an account no message references; raises ``AccountInUse`` otherwise (the log's
    messages name it, and a reply to them leaves by it: switch it off instead)."""
    provider = account.provider
    used = (
        Interaction.objects.filter(**{f"metadata__{provider}__account_id": account.pk}).exists()
        or Delivery.objects.filter(channel=provider, address__startswith=f"{account.pk}:").exists()
    )
    if used:
        raise AccountInUse(
            f"channel account #{account.pk} has messages in the log; switch it off instead "
            "(its webhook then answers 404 and nothing is sent by it)"
        )
    account.delete()


@dataclass(frozen=True)
class WebhookResult:
    created: int
    duplicates: int
    receipts: int
    ignored: list[str]


def webhook_parse(
    *, account: ChannelAccount, raw: bytes, headers: dict[str, str], params: dict[str, str]
) -> hooks.Parsed:
    """Verify a POSTed webhook as the account's provider specifies, then parse it. Raises
    ``WebhookRefused`` (401/403) or ``InputError`` (malformed); reads, writes nothing."""
    values = creds.decrypt(account.credentials_encrypted)
    if account.provider == Provider.TELEGRAM:
        hooks.telegram_verify(
            header=headers.get("X-Telegram-Bot-Api-Secret-Token"),
            secret_token=values["secret_token"],
        )
        return hooks.telegram_parse(raw, account_id=account.pk)
    if account.provider in (Provider.WHATSAPP, Provider.INSTAGRAM):
        hooks.meta_verify(
            raw=raw, header=headers.get("X-Hub-Signature-256"), app_secret=values["app_secret"]
        )
        if account.provider == Provider.WHATSAPP:
            return hooks.whatsapp_parse(
                raw, account_id=account.pk, phone_number_id=values["phone_number_id"]
            )
        return hooks.instagram_parse(raw, account_id=account.pk)
    hooks.wechat_verify(params=params, token=values["token"])
    return hooks.wechat_parse(raw, account_id=account.pk)


def webhook_handshake(*, account: ChannelAccount, params: dict[str, str]) -> str:
    """What a provider's subscription check (GET) expects back: Meta's ``hub.challenge``,
    WeChat's ``echostr``. Raises ``WebhookRefused`` when the proof is wrong or the provider
    (Telegram) has no such check."""
    values = creds.decrypt(account.credentials_encrypted)
    if account.provider in (Provider.WHATSAPP, Provider.INSTAGRAM):
        return hooks.meta_handshake(params=params, verify_token=values["verify_token"])
    if account.provider == Provider.WECHAT:
        hooks.wechat_verify(params=params, token=values["token"])
        return params.get("echostr", "")
    raise hooks.WebhookRefused(403, f"{account.provider} makes no GET check; POST updates here")


def webhook_receive(*, account: ChannelAccount, parsed: hooks.Parsed) -> WebhookResult:
    """Store the verified webhook's messages as inbound interactions of their senders (found
    or created by the channel identity) and apply its receipts; one transaction. Idempotent:
    a message already stored is a duplicate. Raises ``InputError`` when a sender's identity
    is invalid for its channel (nothing of the webhook is stored then)."""
    events: list[dict[str, Any]] = []
    for message in parsed.messages:
        kind, value = message.identity
        try:
            normalize_identity(kind, value)
        except IdentityError:
            # An id the identity rules do not know (a WhatsApp number phonenumbers calls
            # invalid, a longer Instagram id): kept as an external id rather than lost.
            kind, value = "external", f"{kind}:{value}"[:255]
        customer: dict[str, Any] = {kind: value}
        if message.name:
            customer["first_name"] = message.name
        if message.locale:
            customer["locale"] = message.locale
        meta = {"account_id": account.pk, "reply_to": message.reply_to, **message.meta}
        if message.attachments:
            meta["attachments"] = message.attachments
        events.append(
            {
                "source": account.provider,
                "external_id": message.key[:128],
                "channel": account.provider,
                "direction": "inbound",
                "type": "message",
                "occurred_at": message.occurred_at.isoformat(),
                "text": message.text,
                "metadata": {account.provider: meta},
                "customer": customer,
            }
        )
    if len(events) == 1 and not parsed.receipts:
        # The usual update (one message, no receipt): ingestion's own transaction is the
        # whole of it, retried there on a transient failure; no savepoint around it.
        results = events_ingest(events=events)
        if results[0].status == "rejected":
            raise InputError("message", results[0].error or "the message could not be stored")
        applied = 0
    else:
        with transaction.atomic():
            results = events_ingest(events=events) if events else []
            rejected = [r for r in results if r.status == "rejected"]
            if rejected:
                raise InputError("message", rejected[0].error or "a message could not be stored")
            applied = receipts_apply(channel=account.provider, receipts=parsed.receipts)
    return WebhookResult(
        created=sum(r.status == "created" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        receipts=applied,
        ignored=parsed.ignored,
    )


def receipts_apply(*, channel: str, receipts: list[hooks.Receipt]) -> int:
    """Move each delivery a receipt names (by the provider's message id) forward: sent →
    delivered → read; "failed" marks it failed with the provider's reason. Returns how many
    deliveries changed."""
    changed = 0
    for receipt in receipts:
        if not receipt.provider_id:
            continue
        delivery = (
            Delivery.objects.select_for_update()
            .filter(channel=channel, provider_id=receipt.provider_id)
            .first()
        )
        if delivery is None:
            continue
        if receipt.status == "failed":
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = f"{channel}: {receipt.error or 'failed'}"[:500]
        elif _RANK.get(DeliveryStatus(receipt.status), 0) > _RANK.get(
            DeliveryStatus(delivery.status), 0
        ):
            delivery.status = DeliveryStatus(receipt.status)
        else:
            continue
        delivery.save(update_fields=["status", "last_error", "updated_at"])
        changed += 1
    return changed


def account_test_queue(*, account: ChannelAccount, recipient: object) -> ChannelAccount:
    """Queue a test message from ``account`` to ``recipient`` (a chat id, a phone's WhatsApp
    id, an Instagram-scoped id, an openid); the result shows on the account's page. Raises
    ``InputError`` for an empty recipient."""
    to = clean_str(recipient, field="recipient", max_length=255)
    account.last_test_status, account.last_test_error = "queued", ""
    account.last_test_at = timezone.now()
    account.save(update_fields=["last_test_status", "last_test_error", "last_test_at"])

    def enqueue() -> None:
        from khoshnud.channels.tasks import account_test_send

        account_test_send.enqueue(account.pk, to)

    transaction.on_commit(enqueue)
    return account


def account_test_run(*, account_id: int, recipient: str) -> str:
    """Send the test message now (from the queued task); records and returns its status."""
    account = ChannelAccount.objects.get(pk=account_id)
    adapter = outbound_adapter(account.provider)
    status, error = "sent", ""
    try:
        adapter.send_text(account=account, to=recipient, text=TEST_TEXT)  # type: ignore[attr-defined]
        credentials_accepted(account)
    except (SendError, creds.CredentialsUnreadable) as exc:
        status, error = "failed", str(exc)[:500]
    ChannelAccount.objects.filter(pk=account_id).update(
        last_test_status=status, last_test_error=error, last_test_at=timezone.now()
    )
    return status
