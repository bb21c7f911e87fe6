"""Outbound email: Message-ID and threading headers, a plain-text and an HTML part.

Sent through Django's email backend (``EMAIL_*`` settings from the environment; the console
backend when ``EMAIL_HOST`` is unset). A reply's Message-ID is chosen before it is stored, so
a customer's answer to it threads onto the case even while the reply waits in the queue.
"""

from __future__ import annotations

import hashlib
import html
import unicodedata
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string

from khoshnud.channels.outbound import ReplyDraft
from khoshnud.channels.provider_http import PermanentSendError
from khoshnud.customers.models import Identity, IdentityKind, Locale
from khoshnud.interactions.models import Interaction

SOURCE = "email"  # the interaction log's source for email, in and out; external id: Message-ID
# HTML lang / dir per customer language.
_LANG = {Locale.FA: ("fa", "rtl"), Locale.ZH: ("zh-Hans", "ltr"), Locale.EN: ("en", "ltr")}
_MAX_KEY = 128  # Interaction.external_id


def email_key(message_id: str) -> str:
    """The log's external id for a Message-ID: itself, or a digest when it is too long."""
    value = "".join(message_id.split())
    if len(value) <= _MAX_KEY:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def message_id_domain() -> str:
    configured: str = settings.KHOSHNUD_EMAIL_MESSAGE_ID_DOMAIN
    if configured:
        return configured
    sender = str(settings.DEFAULT_FROM_EMAIL).rsplit("@", 1)
    return sender[1].strip(" >") if len(sender) == 2 else "khoshnud.localhost"


def reply_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if subject.lower().startswith(("re:", "re :")):
        return subject
    return f"Re: {subject}" if subject else "Re:"


def text_locale(text: str, locale: str) -> str:
    """The customer's language, unless the text's own script says otherwise (a customer
    created from an email address has the default locale, yet may be written to in Persian):
    the first strong letter decides, as dir="auto" would — Arabic script → fa, Han → zh-hans."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return Locale.FA
        if kind == "L":
            if "CJK" in unicodedata.name(char, ""):
                return Locale.ZH
            if char.isalpha() and locale == Locale.FA:
                return Locale.EN  # a Persian customer written to in Latin letters
            return locale if locale in Locale.values else Locale.EN
    return locale if locale in Locale.values else Locale.EN


def html_body(text: str, locale: str) -> str:
    """The HTML part: escaped paragraphs, with lang and dir of the text's language (the
    customer's, see ``text_locale``)."""
    lang, direction = _LANG[Locale(text_locale(text, locale))]
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(
        f"<p>{'<br>'.join(html.escape(line) for line in p.split(chr(10)))}</p>" for p in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n'
        f'<head><meta charset="utf-8"></head>\n'
        f'<body lang="{lang}" dir="{direction}">\n'
        f'<div lang="{lang}" dir="{direction}">\n{body}\n</div>\n</body>\n</html>\n'
    )


def rendered(name: str, interaction: Interaction) -> tuple[str, str]:
    """(plain text, HTML) of an email another app renders when it is sent, by the function
    ``settings.KHOSHNUD_EMAIL_RENDERERS[name]`` (a survey invitation adds its secret links
    then, so that the log never holds them)."""
    path = settings.KHOSHNUD_EMAIL_RENDERERS.get(name)
    if path is None:
        raise PermanentSendError(f"no email renderer {name!r} (KHOSHNUD_EMAIL_RENDERERS)")
    result: tuple[str, str] = import_string(path)(interaction=interaction)
    return result


class EmailAdapter:
    """The email channel's outbound adapter (see channels.outbound)."""

    channel = "email"
    source = SOURCE

    def address(self, *, customer_id: int, answering: int | None = None) -> str | None:
        identity = (
            Identity.objects.filter(customer_id=customer_id, kind=IdentityKind.EMAIL)
            .order_by("-is_primary", "id")
            .values_list("value", flat=True)
            .first()
        )
        return identity or None

    def prepare(self, *, draft: ReplyDraft) -> tuple[str, dict[str, Any]]:
        message_id = make_msgid(idstring="reply", domain=message_id_domain())
        references = [m for m in draft.thread if m][-20:]  # a long thread keeps its recent ids
        metadata = {
            "email": {
                "message_id": message_id,
                "in_reply_to": draft.answers,
                "references": references,
                "to": draft.address,
                "from": str(settings.DEFAULT_FROM_EMAIL),
                "subject": reply_subject(draft.subject),
                "lang": draft.locale,
            }
        }
        return email_key(message_id), metadata

    def send(self, *, interaction: Interaction, address: str) -> None:
        meta = interaction.metadata.get("email", {})
        headers = {"Message-ID": meta["message_id"]}
        if meta.get("in_reply_to"):
            headers["In-Reply-To"] = meta["in_reply_to"]
        if meta.get("references"):
            headers["References"] = " ".join(meta["references"])
        text, html_part = interaction.text, None
        if meta.get("render"):  # another app builds this email (a survey's score links)
            text, html_part = rendered(meta["render"], interaction)
        message = EmailMultiAlternatives(
            subject=meta.get("subject", ""),
            body=text,
            from_email=meta.get("from") or settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers=headers,
            connection=get_connection(fail_silently=False),
        )
        if html_part is None:
            html_part = html_body(text, meta.get("lang", "en"))
        message.attach_alternative(html_part, "text/html")
        message.send(fail_silently=False)
