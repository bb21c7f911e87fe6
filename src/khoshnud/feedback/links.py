"""The survey link's token: ``<invitation id>.<HMAC-SHA256 of its secret, 128 bits>``.

Unguessable without the SECRET_KEY, checked in constant time, and rebuilt from the
invitation whenever the email is (re)sent, so the token itself is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.urls import reverse

_SALT = b"khoshnud.feedback.invitation:"


def new_secret() -> str:
    return secrets.token_hex(16)


def token_for(*, invitation_id: int, secret: str) -> str:
    key = str(settings.SECRET_KEY).encode()
    digest = hmac.new(key, _SALT + secret.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{invitation_id}.{digest}"


def token_invitation_id(token: str) -> int | None:
    """The invitation id a token names (not yet checked), or None for a malformed token."""
    head, _, digest = token.partition(".")
    if not head.isascii() or not head.isdigit() or len(head) > 18 or len(digest) != 32:
        return None
    return int(head)


def token_matches(*, token: str, invitation_id: int, secret: str) -> bool:
    return hmac.compare_digest(token, token_for(invitation_id=invitation_id, secret=secret))


def survey_url(token: str, *, score: int | None = None) -> str:
    """The public page's absolute address (KHOSHNUD_PUBLIC_URL, else a relative one)."""
    path = reverse("feedback:survey_page", kwargs={"token": token})
    if score is not None:
        path += f"?score={score}"
    base = str(settings.KHOSHNUD_PUBLIC_URL or "").rstrip("/")
    return base + path
