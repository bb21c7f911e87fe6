"""Outbound adapters for the messaging providers: Telegram, WhatsApp, Instagram, WeChat.

A reply leaves through the channel account its case's inbound message came in by: the
delivery's address is ``"<account id>:<recipient>"`` (the recipient being the Telegram chat
id, the WhatsApp id, the Instagram-scoped id or the WeChat openid), read from the inbound
message's metadata. Each provider's base URL is a setting (``TELEGRAM_API_BASE`` …), so tests
run every adapter against a local server that plays the provider.

Sending happens only in ``channels.tasks.deliver`` (``channels.services.delivery_attempt``);
failures raise ``TransientSendError`` (retried after a back-off) or ``PermanentSendError``
(failed at once, shown on the case).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone

from khoshnud.channels import credentials as creds
from khoshnud.channels.models import ChannelAccount, Delivery
from khoshnud.channels.outbound import ReplyDraft
from khoshnud.channels.provider_http import (
    Answer,
    CredentialsRefused,
    PermanentSendError,
    SendError,
    TransientSendError,
    call,
    classify_http,
)
from khoshnud.channels.selectors import instagram_window, whatsapp_window_closed
from khoshnud.inputs import InputError, clean_str
from khoshnud.interactions.models import Direction, Interaction


def split_address(address: str) -> tuple[int, str]:
    account_id, _, recipient = address.partition(":")
    if not account_id.isdigit() or not recipient:
        raise PermanentSendError(f"not a messaging address: {address!r}")
    return int(account_id), recipient


def active_account(account_id: int) -> ChannelAccount:
    account = ChannelAccount.objects.filter(pk=account_id).first()
    if account is None or not account.is_active:
        raise PermanentSendError(f"channel account #{account_id} is missing or switched off")
    return account


def credentials_refused(account: ChannelAccount, what: str) -> CredentialsRefused:
    """Record on the account that the provider refused its credentials (shown on the
    accounts page) and return the error to raise."""
    error = CredentialsRefused(what, account_id=account.pk)
    account.credentials_error = str(error)[:500]
    account.credentials_error_at = timezone.now()
    ChannelAccount.objects.filter(pk=account.pk).update(
        credentials_error=account.credentials_error,
        credentials_error_at=account.credentials_error_at,
    )
    return error


def credentials_accepted(account: ChannelAccount) -> None:
    """A send went through: a refusal recorded earlier no longer holds."""
    if account.credentials_error:
        account.credentials_error, account.credentials_error_at = "", None
        ChannelAccount.objects.filter(pk=account.pk).update(
            credentials_error="", credentials_error_at=None
        )


class MessagingAdapter:
    """What the four providers share: where a customer is reached, the outbound metadata,
    the length rule, and ``send`` through the account of the address."""

    channel: ClassVar[str]
    max_text: ClassVar[int]  # the provider's limit for one text message, in characters
    name: ClassVar[str]

    @property
    def source(self) -> str:
        return self.channel

    def _inbound(self, *, customer_id: int, answering: int | None) -> Interaction | None:
        rows = Interaction.objects.filter(
            customer_id=customer_id, channel=self.channel, direction=Direction.INBOUND
        )
        if answering is not None:
            found = rows.filter(pk=answering).first()
            if found is not None:
                return found
        return rows.order_by("-occurred_at", "-id").first()

    def address(self, *, customer_id: int, answering: int | None = None) -> str | None:
        """``"<account id>:<recipient>"`` of the inbound message ``answering`` (the case's
        latest on this channel), else of the customer's latest message on this channel."""
        found = self._inbound(customer_id=customer_id, answering=answering)
        meta = (found.metadata or {}).get(self.channel) if found else None
        if not isinstance(meta, dict) or not meta.get("account_id") or not meta.get("reply_to"):
            return None
        return f"{meta['account_id']}:{meta['reply_to']}"

    def check_text(self, text: str) -> None:
        if len(text) > self.max_text:
            raise InputError(
                "text",
                f"{self.name} takes at most {self.max_text:,} characters in a message; this "
                f"reply has {len(text):,}: shorten it or send it in parts",
            )

    def prepare(self, *, draft: ReplyDraft) -> tuple[str, dict[str, Any]]:
        if draft.template is not None:
            raise InputError("template", f"{self.name} has no message templates; send text")
        self.check_text(draft.text)
        account_id, recipient = split_address(draft.address)
        key = f"out:{uuid.uuid4().hex}"
        return key, {self.channel: {"account_id": account_id, "to": recipient}}

    def send(self, *, interaction: Interaction, address: str) -> str:
        account_id, recipient = split_address(address)
        account = active_account(account_id)
        sent = self.send_text(account=account, to=recipient, text=interaction.text)
        credentials_accepted(account)
        return sent

    def send_text(self, *, account: ChannelAccount, to: str, text: str) -> str:
        """Send ``text`` to ``to``; the provider's message id. Raises ``SendError``."""
        raise NotImplementedError


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 code units (how Telegram counts), cut at
    a paragraph, else a line, else a space in the part's second half, else where it must."""
    parts: list[str] = []
    rest = text
    while _utf16_len(rest) > limit:
        end, units = 0, 0
        for i, ch in enumerate(rest):  # the longest prefix that fits
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > limit:
                end = i
                break
        window = rest[:end]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            found = window.rfind(sep)
            if found >= end // 2:
                cut = found + len(sep)
                break
        if cut <= 0:
            cut = end
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest.strip():
        parts.append(rest)
    return parts


class TelegramAdapter(MessagingAdapter):
    """Bot API ``sendMessage`` (https://core.telegram.org/bots/api#sendmessage). A reply
    longer than Telegram's 4,096 characters goes as consecutive messages, cut at paragraphs
    or lines; a part already sent is not sent again when a later one is retried."""

    channel = "telegram"
    name = "Telegram"
    max_text = 4096
    max_parts = 5

    def check_text(self, text: str) -> None:
        parts = len(split_text(text, self.max_text))
        if parts > self.max_parts:
            raise InputError(
                "text",
                f"Telegram takes at most {self.max_text:,} characters in a message and Khoshnud "
                f"sends at most {self.max_parts} messages for one reply; this reply needs "
                f"{parts}: shorten it",
            )

    def send(self, *, interaction: Interaction, address: str) -> str:
        account_id, recipient = split_address(address)
        account = active_account(account_id)
        # The ids of parts sent by an earlier attempt (kept on the delivery while queued).
        done = (
            Delivery.objects.filter(interaction_id=interaction.pk)
            .values_list("provider_id", flat=True)
            .first()
        )
        sent = [i for i in (done or "").split(",") if i]
        for part in split_text(interaction.text, self.max_text)[len(sent) :]:
            try:
                sent.append(self.send_text(account=account, to=recipient, text=part))
            except SendError as exc:
                exc.sent_ids = sent  # type: ignore[attr-defined]
                raise
        credentials_accepted(account)
        return ",".join(sent)

    def send_text(self, *, account: ChannelAccount, to: str, text: str) -> str:
        token = creds.decrypt(account.credentials_encrypted)["bot_token"]
        chat_id: int | str = int(to) if to.lstrip("-").isdigit() else to
        answer = call(
            "POST",
            f"{settings.TELEGRAM_API_BASE.rstrip('/')}/bot{token}/sendMessage",
            payload={"chat_id": chat_id, "text": text},
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status == 200 and body.get("ok"):
            return str((body.get("result") or {}).get("message_id", ""))
        code = body.get("error_code") or answer.status
        what = f"Telegram {code}: {body.get('description') or 'no description'}"
        if code == 429 or answer.status == 429:
            retry = (body.get("parameters") or {}).get("retry_after")
            raise TransientSendError(what, retry_after=float(retry or answer.retry_after or 0))
        if code in (401, 404):  # Telegram's answers to a revoked or mistyped bot token
            raise credentials_refused(account, what)
        classify_http(answer, what)
        raise PermanentSendError(what)  # a 200 without ok


# Graph API error codes that mean "later" (rate limits, the service busy); any other refusal
# is for good (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
_GRAPH_TRANSIENT = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131016, 131048, 131056})
# The access token is invalid or expired (OAuthException; 10 is a closed window, not this).
_GRAPH_CREDENTIALS = frozenset({190, 102})


def _graph_result(answer: Answer, provider: str, account: ChannelAccount) -> dict[str, Any]:
    body = answer.body if isinstance(answer.body, dict) else {}
    if 200 <= answer.status < 300 and "error" not in body:
        return body
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = error.get("code")
    details = (error.get("error_data") or {}).get("details") if error else None
    what = f"{provider} {code or answer.status}: {details or error.get('message') or 'refused'}"
    if code in _GRAPH_TRANSIENT:
        raise TransientSendError(what, retry_after=answer.retry_after)
    if code in _GRAPH_CREDENTIALS or answer.status == 401:
        raise credentials_refused(account, what)
    classify_http(answer, what)
    raise PermanentSendError(what)


_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_TEMPLATE_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
MAX_TEMPLATE_PARAMS = 10


def whatsapp_template_clean(raw: object) -> dict[str, Any]:
    """A WhatsApp template reference: its ``name`` as approved in WhatsApp Manager (lower
    case, digits, _), its ``language`` code (``fa``, ``en_US``, ``zh_CN``) and the text of its
    body's {{1}}, {{2}} … ``params``. Raises ``InputError``."""
    if not isinstance(raw, dict):
        raise InputError("template", "must be an object with name, language and params")
    name = str(raw.get("name") or "").strip()
    if not _TEMPLATE_NAME.match(name):
        raise InputError(
            "template.name", "the template's name as approved: lower-case letters, digits and _"
        )
    language = str(raw.get("language") or "").strip()
    if not _TEMPLATE_LANGUAGE.match(language):
        raise InputError("template.language", "a WhatsApp language code such as fa, en_US, zh_CN")
    params = raw.get("params") or []
    if not isinstance(params, list) or len(params) > MAX_TEMPLATE_PARAMS:
        raise InputError("template.params", f"a list of at most {MAX_TEMPLATE_PARAMS} texts")
    clean = [clean_str(p, field="template.params", max_length=1024) for p in params]
    return {"name": name, "language": language, "params": clean}


def whatsapp_template_payload(template: dict[str, Any]) -> dict[str, Any]:
    """The Cloud API's ``template`` object for a cleaned template reference."""
    payload: dict[str, Any] = {"name": template["name"], "language": {"code": template["language"]}}
    if template.get("params"):
        payload["components"] = [
            {"type": "body",
             "parameters": [{"type": "text", "text": p} for p in template["params"]]}
        ]  # fmt: skip
    return payload


class WhatsAppAdapter(MessagingAdapter):
    """Cloud API ``POST /{phone_number_id}/messages``. Free text only inside the 24-hour
    customer-service window (since the customer's last message to this number); outside it
    only an approved template may go, which a reply is not: refused before it is stored."""

    channel = "whatsapp"
    name = "WhatsApp"
    max_text = 4096

    def prepare(self, *, draft: ReplyDraft) -> tuple[str, dict[str, Any]]:
        account_id, recipient = split_address(draft.address)
        if draft.template is not None:  # an approved template may go at any time
            template = whatsapp_template_clean(draft.template)
            key = f"out:{uuid.uuid4().hex}"
            return key, {
                self.channel: {"account_id": account_id, "to": recipient, "template": template}
            }
        closed = whatsapp_window_closed(customer_id=draft.customer_id, account_id=account_id)
        if closed:
            raise InputError("text", closed)
        return super().prepare(draft=draft)

    def send(self, *, interaction: Interaction, address: str) -> str:
        meta = (interaction.metadata or {}).get(self.channel) or {}
        template = meta.get("template") if isinstance(meta, dict) else None
        if not isinstance(template, dict):
            return super().send(interaction=interaction, address=address)
        account_id, recipient = split_address(address)
        account = active_account(account_id)
        sent = self._post(account, recipient, {"type": "template",
                                               "template": whatsapp_template_payload(template)})  # fmt: skip
        credentials_accepted(account)
        return sent

    def send_text(self, *, account: ChannelAccount, to: str, text: str) -> str:
        return self._post(
            account, to, {"type": "text", "text": {"preview_url": False, "body": text}}
        )

    def _post(self, account: ChannelAccount, to: str, message: dict[str, Any]) -> str:
        values = creds.decrypt(account.credentials_encrypted)
        answer = call(
            "POST",
            f"{settings.WHATSAPP_API_BASE.rstrip('/')}/{values['phone_number_id']}/messages",
            payload={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                **message,
            },
            headers={"Authorization": f"Bearer {values['access_token']}"},
        )
        body = _graph_result(answer, "WhatsApp", account)
        messages = body.get("messages") or [{}]
        return str(messages[0].get("id", ""))


class InstagramAdapter(MessagingAdapter):
    """Instagram messaging Send API ``POST /{ig_user_id}/messages`` (default ``me``)."""

    channel = "instagram"
    name = "Instagram"
    max_text = 1000

    def prepare(self, *, draft: ReplyDraft) -> tuple[str, dict[str, Any]]:
        """Within 24 hours of the customer's last message: a plain reply; within 7 days: one
        with the ``HUMAN_AGENT`` tag (a person answering); later: refused, nothing stored."""
        key, metadata = super().prepare(draft=draft)
        account_id, _recipient = split_address(draft.address)
        state, why = instagram_window(customer_id=draft.customer_id, account_id=account_id)
        if state == "closed":
            raise InputError("text", why)
        if state == "human_agent":
            metadata[self.channel]["tag"] = "HUMAN_AGENT"
        return key, metadata

    def send(self, *, interaction: Interaction, address: str) -> str:
        meta = (interaction.metadata or {}).get(self.channel) or {}
        tag = meta.get("tag") if isinstance(meta, dict) else None
        account_id, recipient = split_address(address)
        account = active_account(account_id)
        sent = self._post(account, recipient, interaction.text, tag=tag or None)
        credentials_accepted(account)
        return sent

    def send_text(self, *, account: ChannelAccount, to: str, text: str) -> str:
        return self._post(account, to, text, tag=None)

    def _post(self, account: ChannelAccount, to: str, text: str, *, tag: str | None) -> str:
        values = creds.decrypt(account.credentials_encrypted)
        sender = values.get("ig_user_id") or "me"
        payload: dict[str, Any] = {"recipient": {"id": to}, "message": {"text": text}}
        if tag:  # outside the 24 hours, within 7 days: a human agent's answer
            payload |= {"messaging_type": "MESSAGE_TAG", "tag": tag}
        answer = call(
            "POST",
            f"{settings.INSTAGRAM_API_BASE.rstrip('/')}/{sender}/messages",
            payload=payload,
            headers={"Authorization": f"Bearer {values['access_token']}"},
        )
        return str(_graph_result(answer, "Instagram", account).get("message_id", ""))


# WeChat answers HTTP 200 with an errcode: these mean the token is stale (fetch a new one and
# try once more), these that the platform is busy (later); any other is for good.
_WECHAT_STALE_TOKEN = frozenset({40001, 40014, 42001})
_WECHAT_TRANSIENT = frozenset({-1, 45009, 45011})
# The token request refused: invalid appid, invalid appsecret, the server's IP not allowed.
_WECHAT_CREDENTIALS = frozenset({40013, 40125, 40164, 41002, 41004})
_WECHAT_TOKEN_MARGIN = dt.timedelta(minutes=5)


def _wechat_fail(answer: Answer, what: str, account: ChannelAccount) -> None:
    body = answer.body if isinstance(answer.body, dict) else {}
    code = body.get("errcode", 0)
    if answer.status == 200 and code in (0, None):
        return
    message = f"WeChat {what} {code}: {body.get('errmsg') or 'refused'}"
    if code in _WECHAT_TRANSIENT:
        raise TransientSendError(message, retry_after=answer.retry_after)
    if code in _WECHAT_CREDENTIALS:
        raise credentials_refused(account, message)
    classify_http(answer, message)
    raise PermanentSendError(message)


class WeChatAdapter(MessagingAdapter):
    """Official account customer-service message API (``/cgi-bin/message/custom/send``),
    with the access token (``/cgi-bin/token``) cached on the account until five minutes
    before it expires, and fetched again when WeChat says it is stale."""

    channel = "wechat"
    name = "WeChat"
    max_text = 2048

    def access_token(self, account: ChannelAccount, *, fresh: bool = False) -> str:
        now = timezone.now()
        if (
            not fresh
            and account.access_token_encrypted
            and account.access_token_expires_at
            and account.access_token_expires_at > now
        ):
            return creds.decrypt(account.access_token_encrypted)["access_token"]
        values = creds.decrypt(account.credentials_encrypted)
        query = urllib.parse.urlencode(
            {"grant_type": "client_credential", "appid": values["app_id"],
             "secret": values["app_secret"]}
        )  # fmt: skip
        answer = call("GET", f"{settings.WECHAT_API_BASE.rstrip('/')}/cgi-bin/token?{query}")
        _wechat_fail(answer, "token", account)
        token = str(answer.body.get("access_token") or "")
        if not token:
            raise PermanentSendError("WeChat token: the answer held no access_token")
        lifetime = dt.timedelta(seconds=int(answer.body.get("expires_in") or 7200))
        account.access_token_encrypted = creds.encrypt({"access_token": token})
        account.access_token_expires_at = now + lifetime - _WECHAT_TOKEN_MARGIN
        ChannelAccount.objects.filter(pk=account.pk).update(
            access_token_encrypted=account.access_token_encrypted,
            access_token_expires_at=account.access_token_expires_at,
        )
        return token

    def send_text(self, *, account: ChannelAccount, to: str, text: str) -> str:
        payload = {"touser": to, "msgtype": "text", "text": {"content": text}}
        base = settings.WECHAT_API_BASE.rstrip("/")
        for fresh in (False, True):
            token = urllib.parse.quote(self.access_token(account, fresh=fresh))
            answer = call(
                "POST", f"{base}/cgi-bin/message/custom/send?access_token={token}", payload=payload
            )
            code = answer.body.get("errcode") if isinstance(answer.body, dict) else None
            if code in _WECHAT_STALE_TOKEN and not fresh:
                continue  # the cached token was revoked or expired early: fetch a new one
            _wechat_fail(answer, "send", account)
            return ""  # the customer-service API returns no message id
        raise credentials_refused(account, "WeChat refused a freshly fetched access token")

    def check_text(self, text: str) -> None:
        size = len(text.encode())
        if size > self.max_text:
            raise InputError(
                "text",
                f"WeChat takes at most {self.max_text:,} bytes in a message; this reply has "
                f"{size:,} (a Chinese or Persian character is 3 bytes): shorten it",
            )
