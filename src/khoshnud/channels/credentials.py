"""Channel accounts' credentials: which keys each provider needs, and their encryption at rest.

Fernet (AES-128-CBC with HMAC-SHA256) with a key derived from ``KHOSHNUD_CREDENTIALS_KEY``, or
``SECRET_KEY`` when that is unset. Credentials are decrypted only where a request to the
provider is made or a webhook verified; they are never returned by the API, shown in a page
or written to a log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from khoshnud.inputs import InputError

# provider → (required keys, optional keys). The names are the providers' own.
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # secret_token: Telegram sends it back in X-Telegram-Bot-Api-Secret-Token (setWebhook).
    "telegram": (("bot_token", "secret_token"), ()),
    # verify_token: the GET handshake's; app_secret signs every POST (X-Hub-Signature-256).
    "whatsapp": (("access_token", "phone_number_id", "app_secret", "verify_token"), ()),
    # ig_user_id: the sending account (default "me", the token's own account).
    "instagram": (("access_token", "app_secret", "verify_token"), ("ig_user_id",)),
    # token: the one typed in the official account's console, signs every request to us.
    "wechat": (("app_id", "app_secret", "token"), ()),
}
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_MAX_VALUE = 1000


class CredentialsUnreadable(RuntimeError):
    """The stored credentials cannot be decrypted (the key changed): enter them again."""


def _fernet() -> Fernet:
    secret = settings.KHOSHNUD_CREDENTIALS_KEY or settings.SECRET_KEY
    digest = hashlib.sha256(b"khoshnud channel credentials\0" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def credentials_clean(provider: str, raw: object) -> dict[str, str]:
    """The provider's credentials from ``raw``: every required key a non-empty string, no
    unknown key. Raises ``InputError`` naming what is wrong."""
    if provider not in FIELDS:
        raise InputError("provider", f"unknown provider {provider!r}; use one of {sorted(FIELDS)}")
    required, optional = FIELDS[provider]
    if not isinstance(raw, dict):
        raise InputError("credentials", "must be an object")
    unknown = sorted(set(raw) - set(required) - set(optional))
    if unknown:
        raise InputError(
            "credentials",
            f"unknown keys {unknown} for {provider}; it takes {list(required + optional)}",
        )
    missing = [key for key in required if not raw.get(key)]
    if missing:
        raise InputError("credentials", f"{provider} needs {missing} (required: {list(required)})")
    clean: dict[str, str] = {}
    for key, value in raw.items():
        if value in (None, ""):
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InputError(f"credentials.{key}", "must be a string")
        text = str(value).strip()
        if not text or len(text) > _MAX_VALUE or any(c.isspace() for c in text):
            raise InputError(
                f"credentials.{key}", f"must be 1–{_MAX_VALUE} characters without spaces"
            )
        clean[key] = text
    if provider == "telegram" and not _TELEGRAM_SECRET.match(clean["secret_token"]):
        raise InputError(
            "credentials.secret_token", "Telegram allows 1–256 characters A-Z, a-z, 0-9, _ and -"
        )
    if provider == "whatsapp" and not clean["phone_number_id"].isdigit():
        raise InputError("credentials.phone_number_id", "must be the number's id (digits)")
    return clean


def encrypt(values: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    try:
        data = json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError):
        raise CredentialsUnreadable(
            "the stored credentials cannot be decrypted (was KHOSHNUD_CREDENTIALS_KEY or "
            "SECRET_KEY changed?): enter them again"
        ) from None
    return {str(k): str(v) for k, v in data.items()}


def mask(value: str) -> str:
    """What a person may see of a secret: its length and last two characters."""
    return "•" * min(len(value), 8) + value[-2:] if len(value) > 6 else "•" * len(value)
