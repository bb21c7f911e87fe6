"""Normalising channel identities so that one person is one identity value per channel."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from khoshnud.calendars import latin_digits
from khoshnud.customers.models import IdentityKind
from khoshnud.inputs import storable_text


class IdentityError(ValueError):
    """An identity value that cannot be valid for its channel."""


_TELEGRAM_RE = re.compile(r"^[A-Za-z0-9_]{3,64}$")
_INSTAGRAM_RE = re.compile(r"^[A-Za-z0-9._]{1,30}$")


def normalize_email(value: str) -> str:
    email = latin_digits(value).strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise IdentityError(f"invalid email address {value!r}") from None
    return email


def normalize_phone(value: str, region: str | None = None) -> str:
    """Any written form (Persian/Arabic digits, spaces, 0912..., 00...) → E.164 (+989121234567)."""
    raw = latin_digits(str(value)).strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region or settings.KHOSHNUD_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise IdentityError(f"invalid phone number {value!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise IdentityError(f"invalid phone number {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: object) -> str:
    """Return the stored form of ``value`` for ``kind``; raise IdentityError if it cannot be."""
    if not isinstance(value, str | int) or str(value).strip() == "":
        raise IdentityError(f"{kind} must be a non-empty string")
    return _normalize(kind, str(value).strip())


# Pure and hot on ingestion (the same customers write again and again): remember answers.
@lru_cache(maxsize=65536)
def _normalize(kind: str, text: str) -> str:
    value = text
    if kind == IdentityKind.EMAIL:
        return normalize_email(text)
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        return normalize_phone(text)
    if kind == IdentityKind.TELEGRAM:
        text = latin_digits(text).lstrip("@")
        if text.isdigit() or _TELEGRAM_RE.match(text):
            return text.lower()
        raise IdentityError(f"invalid Telegram id or username {value!r}")
    if kind == IdentityKind.INSTAGRAM:
        text = text.lstrip("@").lower()
        if _INSTAGRAM_RE.match(text):
            return text
        raise IdentityError(f"invalid Instagram handle {value!r}")
    if kind in (IdentityKind.WECHAT, IdentityKind.EXTERNAL):
        if storable_text(text) != text:
            raise IdentityError(f"{kind} id holds invalid Unicode")
        if len(text) > 255:
            raise IdentityError(f"{kind} id is longer than 255 characters")
        return text
    raise IdentityError(f"unknown identity kind {kind!r}; use one of {IdentityKind.values}")
