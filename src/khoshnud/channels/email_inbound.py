"""Inbound email: a raw RFC 822 message → sender, Message-ID, threading ids, date and the text
the customer wrote (any charset, any MIME structure, quoted replies stripped).

Pure functions over bytes (Python's email package, ``policy.default``); storing is
``channels.services.email_receive``'s.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from khoshnud.inputs import InputError, storable_text

GENERATED_DOMAIN = "generated.khoshnud.invalid"
# Labels mail programs use for Chinese that Python's strict codecs refuse: GB 18030 decodes
# every GB 2312 and GBK text, and the characters senders add beyond them.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
_MSG_ID = re.compile(r"<[^<>\s]+>")

# The line a mail program puts above a quoted reply, in English, Persian and Chinese.
_QUOTE_INTRO = re.compile(
    r"(\bwrote\s*:|نوشت(?:ه\s+است|ه)?\s*[:：]|(?:写道|寫道)\s*[:：]?)\s*$", re.IGNORECASE
)
_INTRO_START = re.compile(r"^\s*(On\b|در\s|在)", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Forwarded message|پیام اصلی|原始邮件|原始郵件)\s*-{2,}\s*$",
    re.IGNORECASE,
)


@dataclass
class ParsedEmail:
    sender: str
    sender_name: str
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    to: str
    occurred_at: dt.datetime | None
    text: str
    notes: list[str] = field(default_factory=list)


def _header(msg: Message, name: str, notes: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser cannot read is noted, not fatal
        notes.append(f"the {name} header could not be read")
        return ""
    return "" if value is None else storable_text(" ".join(str(value).split()))


def _ids(value: str) -> list[str]:
    return _MSG_ID.findall(value)


def _decode(part: Message, notes: list[str]) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    label = (part.get_content_charset() or "").strip().lower()
    codec = _CHARSET_ALIASES.get(label, label) or "utf-8"
    try:
        codecs.lookup(codec)
    except LookupError:
        notes.append(f"unknown charset {label!r}: decoded as UTF-8, unreadable bytes replaced by �")
        return data.decode("utf-8", "replace")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        notes.append(f"bytes invalid in {label or 'the default charset'} were replaced by �")
        return data.decode(codec, "replace")


class _HtmlText(HTMLParser):
    """HTML → text: block elements end lines; scripts, styles and quoted replies dropped."""

    SKIP = frozenset({"script", "style", "head", "title", "blockquote"})
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK and not self.skipping:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self.BLOCK and not self.skipping:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text: str) -> str:
    """The new part of a reply: up to the quote's introduction ("On … wrote:", "… نوشت:",
    "… 写道："), an "Original Message" line, without lines starting with ">"."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    end = len(lines)
    for i, line in enumerate(lines):
        if _ORIGINAL.match(line):
            end = i
            break
        if not _QUOTE_INTRO.search(line):
            continue
        if _INTRO_START.match(line):
            end = i
            break
        # Gmail breaks a long introduction over two lines: "On Wed, … Sara <" / "…> wrote:".
        if i > 0 and _INTRO_START.match(lines[i - 1]):
            end = i - 1
            break
        if i + 1 < len(lines) and lines[i + 1].lstrip().startswith(">"):
            end = i
            break
    kept = [line for line in lines[:end] if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


def email_parse(raw: bytes) -> ParsedEmail:
    """Read a raw message. Raises ``InputError`` when it is not an email (no sender address);
    what can be read around a fault (unknown charset, bad bytes, no Message-ID, no date) is
    kept, with a note saying what was done."""
    if not raw.strip():
        raise InputError("body", "is empty: send the raw message (RFC 822) as the body")
    notes: list[str] = []
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    sender_name, sender = "", ""
    for name, address in getaddresses([_header(msg, "From", notes)]):
        if "@" in address:
            sender_name, sender = name.strip(), address.strip()
            break
    if not sender:
        raise InputError("From", "no sender address: this is not an email message (RFC 822)")
    ids = _ids(_header(msg, "Message-ID", notes))
    if ids:
        message_id = ids[0]
    else:
        digest = hashlib.sha256(raw).hexdigest()[:40]
        message_id = f"<{digest}@{GENERATED_DOMAIN}>"
        notes.append("no Message-ID: one was made from the SHA-256 of the raw message")
    occurred_at = None
    date = _header(msg, "Date", notes)
    if date:
        try:
            occurred_at = parsedate_to_datetime(date)
            if occurred_at.tzinfo is None:  # "-0000": the zone is unknown; read it as UTC
                occurred_at = occurred_at.replace(tzinfo=dt.UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            occurred_at = None
    if occurred_at is None:
        notes.append("no readable Date: the time it was received is used")
    text = ""
    body = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) else None
    if body is None:
        notes.append("no text part")
    else:
        text = _decode(body, notes)
        if body.get_content_subtype() == "html":
            text = html_to_text(text)
    stripped = strip_quoted(text)
    return ParsedEmail(
        sender=sender,
        sender_name=sender_name,
        message_id=message_id,
        in_reply_to=(_ids(_header(msg, "In-Reply-To", notes)) or [""])[0],
        references=_ids(_header(msg, "References", notes)),
        subject=_header(msg, "Subject", notes)[:300],
        to=_header(msg, "To", notes)[:300],
        occurred_at=occurred_at,
        text=storable_text(stripped or text.strip()),
        notes=notes,
    )
