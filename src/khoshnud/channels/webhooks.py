"""Inbound webhooks of the messaging providers: verification and parsing (pure functions).

Verification, as each provider specifies:
- Telegram: the ``X-Telegram-Bot-Api-Secret-Token`` header equals the account's secret_token.
- WhatsApp Cloud API and Instagram (Meta): ``X-Hub-Signature-256: sha256=<hex>``, the
  HMAC-SHA256 of the raw body with the app secret; the subscription handshake is a GET with
  ``hub.mode=subscribe``, ``hub.verify_token`` and ``hub.challenge`` (echoed).
- WeChat official account: ``signature`` = SHA-1 of the sorted, concatenated token, timestamp
  and nonce (query parameters); the handshake GET echoes ``echostr``. Plain-mode XML bodies.

Every comparison of a secret is ``hmac.compare_digest``. Parsing turns a body into
``InboundMessage`` rows (text, caption, attachments as metadata with the provider's file id;
nothing is downloaded) and ``Receipt`` rows (delivery / read receipts of our messages).
Storing is ``channels.services.webhook_receive``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from khoshnud.inputs import InputError, read_json, storable_text


class WebhookRefused(Exception):
    """Not from the provider: 401 when the proof is missing, 403 when it is wrong."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass
class InboundMessage:
    key: str  # the provider's message id, made unique per account: the log's external id
    occurred_at: dt.datetime
    text: str
    reply_to: str  # where a reply goes: chat id, WhatsApp id, Instagram-scoped id, openid
    identity: tuple[str, str]  # (identity kind, value) of the sender
    name: str = ""
    locale: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Receipt:
    provider_id: str  # our sent message's id at the provider
    status: str  # sent | delivered | read | failed
    error: str = ""


@dataclass
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # what was skipped, and why


def _proof(given: str | None, expected: str, what: str) -> None:
    if not given:
        raise WebhookRefused(401, f"the {what} is missing")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRefused(403, f"the {what} does not match")


def _at(seconds: object) -> dt.datetime:
    try:
        value = float(str(seconds))
        if value > 10**11:  # milliseconds (Instagram)
            value /= 1000
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.now(tz=dt.UTC)


def _json_object(raw: bytes) -> dict[str, Any]:
    body = read_json(raw)
    if not isinstance(body, dict):
        raise InputError("", "the body must be a JSON object")
    return body


def _s(value: object) -> str:
    return storable_text(value) if isinstance(value, str) else ""


# ---- Telegram -------------------------------------------------------------------------------

_TELEGRAM_FILES = ("photo", "document", "voice", "video", "audio", "sticker", "animation",
                   "video_note")  # fmt: skip
_TELEGRAM_LOCALES = {"fa": "fa", "en": "en", "zh-hans": "zh-hans", "zh": "zh-hans"}


def telegram_verify(*, header: str | None, secret_token: str) -> None:
    _proof(header, secret_token, "X-Telegram-Bot-Api-Secret-Token header")


def telegram_parse(raw: bytes, *, account_id: int) -> Parsed:
    """An Update (https://core.telegram.org/bots/api#update): message, edited_message or
    channel_post; anything else (a member change, a callback) is skipped."""
    update = _json_object(raw)
    update_id = update.get("update_id")
    if not isinstance(update_id, int):
        raise InputError("update_id", "an Update needs an integer update_id")
    parsed = Parsed()
    kind = next((k for k in ("message", "edited_message", "channel_post") if k in update), None)
    if kind is None:
        parsed.ignored.append(f"update kind {sorted(set(update) - {'update_id'})} not handled")
        return parsed
    message = update[kind]
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        raise InputError(kind, "must be a Message object with a chat")
    chat, sender = message["chat"], message.get("from") or {}
    chat_id, message_id = chat.get("id"), message.get("message_id")
    if not isinstance(chat_id, int) or not isinstance(message_id, int):
        raise InputError(kind, "chat.id and message_id must be integers")
    attachments: list[dict[str, Any]] = []
    for name in _TELEGRAM_FILES:
        item = message.get(name)
        if name == "photo" and isinstance(item, list) and item:
            item = max(item, key=lambda p: p.get("file_size") or p.get("width") or 0)
        if isinstance(item, dict) and item.get("file_id"):
            keep = ("file_id", "file_unique_id", "file_name", "mime_type", "file_size",
                    "duration", "emoji", "width", "height")  # fmt: skip
            attachments.append({"kind": name} | {k: item[k] for k in keep if k in item})
    location = message.get("location")
    if isinstance(location, dict):
        attachments.append({"kind": "location", "latitude": location.get("latitude"),
                            "longitude": location.get("longitude")})  # fmt: skip
    text = _s(message.get("text")) or _s(message.get("caption"))
    if not text and not attachments:
        parsed.ignored.append(f"{kind} {message_id} holds nothing Khoshnud stores (kind)")
        return parsed
    key = f"{account_id}:{chat_id}:{message_id}"
    when = message.get("date")
    if kind == "edited_message":
        when = message.get("edit_date") or when
        key += f":edit:{when}"
    if isinstance(sender, dict) and isinstance(sender.get("id"), int) and kind != "channel_post":
        identity = ("telegram", str(sender["id"]))
        name = " ".join(_s(sender.get(k)) for k in ("first_name", "last_name")).strip()
        locale = _TELEGRAM_LOCALES.get(str(sender.get("language_code") or "").lower(), "")
    else:  # a channel's post: the channel is who wrote
        identity = ("external", f"telegram-chat:{chat_id}")
        name, locale = _s(chat.get("title")), ""
    parsed.messages.append(
        InboundMessage(
            key=key,
            occurred_at=_at(when),
            text=text,
            reply_to=str(chat_id),
            identity=identity,
            name=name[:100],
            locale=locale,
            attachments=attachments,
            meta={
                "update_id": update_id,
                "message_id": message_id,
                "chat_id": chat_id,
                "kind": kind,
                "username": _s(sender.get("username")),
            },
        )
    )
    return parsed


# ---- Meta: WhatsApp Cloud API and Instagram -------------------------------------------------


def meta_signature(raw: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def meta_verify(*, raw: bytes, header: str | None, app_secret: str) -> None:
    _proof(header, meta_signature(raw, app_secret), "X-Hub-Signature-256 signature")


def meta_handshake(*, params: dict[str, str], verify_token: str) -> str:
    """The challenge to echo when the subscription request carries our verify token."""
    if params.get("hub.mode") != "subscribe":
        raise WebhookRefused(403, "hub.mode must be subscribe")
    _proof(params.get("hub.verify_token"), verify_token, "hub.verify_token")
    return params.get("hub.challenge", "")


_WHATSAPP_MEDIA = ("image", "document", "audio", "video", "sticker", "voice")
_RECEIPTS = frozenset({"sent", "delivered", "read", "failed"})


def whatsapp_parse(raw: bytes, *, account_id: int, phone_number_id: str) -> Parsed:
    """A WhatsApp Business Account notification: ``entry[].changes[].value`` with messages
    and statuses, for this account's phone number (others are skipped)."""
    body = _json_object(raw)
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise InputError("entry", "must be a list")
    parsed = Parsed()
    for entry in entries:
        for change in (entry or {}).get("changes") or [] if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                raise InputError("changes", "each change needs a value object")
            number = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if number != phone_number_id:
                parsed.ignored.append(f"phone number {number or '?'} is not this account's")
                continue
            names = {
                str(c.get("wa_id")): _s((c.get("profile") or {}).get("name"))
                for c in value.get("contacts") or []
                if isinstance(c, dict)
            }
            for message in value.get("messages") or []:
                _whatsapp_message(message, account_id, names, parsed)
            for status in value.get("statuses") or []:
                if isinstance(status, dict) and status.get("status") in _RECEIPTS:
                    errors = status.get("errors") or [{}]
                    error = errors[0] if isinstance(errors[0], dict) else {}
                    parsed.receipts.append(Receipt(
                        provider_id=str(status.get("id") or ""), status=status["status"],
                        error=_s(error.get("title") or error.get("message"))[:300],
                    ))  # fmt: skip
    return parsed


def _whatsapp_message(
    message: object, account_id: int, names: dict[str, str], parsed: Parsed
) -> None:
    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
        raise InputError("messages", "each message needs an id and a from")
    kind = str(message.get("type") or "")
    sender = str(message["from"])
    text, attachments = "", []
    if kind == "text":
        text = _s((message.get("text") or {}).get("body"))
    elif kind in _WHATSAPP_MEDIA:
        media = message.get(kind) or {}
        text = _s(media.get("caption"))
        keep = ("id", "mime_type", "sha256", "filename", "voice", "animated")
        attachments.append({"kind": kind} | {k: media[k] for k in keep if k in media})
    elif kind == "location":
        place = message.get("location") or {}
        attachments.append({"kind": "location"} | {
            k: place[k] for k in ("latitude", "longitude", "name", "address") if k in place
        })  # fmt: skip
    elif kind == "button":
        text = _s((message.get("button") or {}).get("text"))
    elif kind == "interactive":
        reply = message.get("interactive") or {}
        choice = reply.get("button_reply") or reply.get("list_reply") or {}
        text = _s(choice.get("title"))
    if not text and not attachments:
        parsed.ignored.append(f"message {message['id']} of type {kind!r} is not stored")
        return
    parsed.messages.append(
        InboundMessage(
            key=f"{account_id}:{message['id']}",
            occurred_at=_at(message.get("timestamp")),
            text=text,
            reply_to=sender,
            identity=("whatsapp", "+" + sender.lstrip("+")),
            name=names.get(sender, "")[:100],
            attachments=attachments,
            meta={"message_id": str(message["id"]), "type": kind},
        )
    )


def instagram_parse(raw: bytes, *, account_id: int) -> Parsed:
    """An Instagram messaging notification: ``entry[].messaging[]`` with message (text,
    attachments), read receipts; echoes of our own messages are skipped."""
    body = _json_object(raw)
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise InputError("entry", "must be a list")
    parsed = Parsed()
    for entry in entries:
        events = entry.get("messaging") if isinstance(entry, dict) else None
        for event in events or []:
            if not isinstance(event, dict):
                raise InputError("messaging", "each event must be an object")
            read = event.get("read")
            if isinstance(read, dict) and read.get("mid"):
                parsed.receipts.append(Receipt(provider_id=str(read["mid"]), status="read"))
                continue
            message = event.get("message")
            if not isinstance(message, dict):
                parsed.ignored.append("an event without a message")
                continue
            if message.get("is_echo"):
                parsed.ignored.append(f"echo {message.get('mid')}")
                continue
            sender = str((event.get("sender") or {}).get("id") or "")
            if not sender or not message.get("mid"):
                raise InputError("messaging", "a message needs sender.id and mid")
            attachments = [
                {"kind": a.get("type"), "url": (a.get("payload") or {}).get("url")}
                for a in message.get("attachments") or []
                if isinstance(a, dict)
            ]
            text = _s(message.get("text"))
            if not text and not attachments:
                parsed.ignored.append(f"message {message['mid']} holds nothing stored")
                continue
            parsed.messages.append(
                InboundMessage(
                    key=f"{account_id}:{message['mid']}",
                    occurred_at=_at(event.get("timestamp")),
                    text=text,
                    reply_to=sender,
                    identity=("instagram", sender),
                    attachments=attachments,
                    meta={"message_id": str(message["mid"])},
                )
            )
    return parsed


# ---- WeChat official account ----------------------------------------------------------------


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 (WeChat's scheme)


def wechat_verify(*, params: dict[str, str], token: str) -> None:
    expected = wechat_signature(token, params.get("timestamp", ""), params.get("nonce", ""))
    _proof(params.get("signature"), expected, "signature")


def _read_xml(raw: bytes) -> ET.Element:
    # A DTD can define entities that expand without end ("billion laughs") or read files:
    # WeChat never sends one, so any is refused before the parser sees it.
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise InputError("", "XML with a DTD or entities is refused")
    try:
        return ET.fromstring(raw)  # noqa: S314 (no DTD: checked above)
    except ET.ParseError as exc:
        raise InputError("", f"the body is not well-formed XML: {exc}") from None


_WECHAT_MEDIA = {"image": ("MediaId", "PicUrl"), "voice": ("MediaId", "Format", "Recognition"),
                 "video": ("MediaId", "ThumbMediaId"), "shortvideo": ("MediaId", "ThumbMediaId"),
                 "location": ("Location_X", "Location_Y", "Scale", "Label"),
                 "link": ("Title", "Description", "Url")}  # fmt: skip


def wechat_parse(raw: bytes, *, account_id: int) -> Parsed:
    """A plain-mode message (``<xml><ToUserName>…<MsgType>…</xml>``); events (subscribe,
    menu clicks) are skipped."""
    root = _read_xml(raw)
    if root.tag != "xml":
        raise InputError("", "the root element must be <xml>")
    values = {child.tag: (child.text or "").strip() for child in root}
    kind, sender = values.get("MsgType", ""), values.get("FromUserName", "")
    parsed = Parsed()
    if not kind or not sender:
        raise InputError("", "a WeChat message needs MsgType and FromUserName")
    if kind == "event":
        parsed.ignored.append(f"event {values.get('Event', '?')}")
        return parsed
    if kind != "text" and kind not in _WECHAT_MEDIA:
        parsed.ignored.append(f"message type {kind!r} is not stored")
        return parsed
    msg_id = values.get("MsgId") or f"{sender}:{values.get('CreateTime', '')}"
    attachments = []
    if kind in _WECHAT_MEDIA:
        attachments.append({"kind": kind} | {
            k: storable_text(values[k]) for k in _WECHAT_MEDIA[kind] if values.get(k)
        })  # fmt: skip
    text = storable_text(values.get("Content") or values.get("Recognition") or "")
    parsed.messages.append(
        InboundMessage(
            key=f"{account_id}:{msg_id}",
            occurred_at=_at(values.get("CreateTime")),
            text=text,
            reply_to=sender,
            identity=("wechat", storable_text(sender)),
            attachments=attachments,
            meta={
                "message_id": msg_id,
                "type": kind,
                "to": storable_text(values.get("ToUserName", "")),
            },
        )
    )
    return parsed
