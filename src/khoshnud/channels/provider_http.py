"""HTTP to messaging providers (urllib, JSON in and out), and the two kinds of failure.

Only queued tasks call this (never a request). A failure is either transient (network, 429,
5xx, the provider's "busy" codes: the delivery is tried again after a back-off, at least the
provider's ``retry_after``) or permanent (the provider refused the message for good: a blocked
bot, an unknown recipient, a bad token; the delivery is failed at once and shown on the case).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings


class SendError(Exception):
    """A provider did not take a message."""


class TransientSendError(SendError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    pass


class CredentialsRefused(PermanentSendError):
    """The provider refused the account's credentials (a revoked token, a wrong app secret):
    nothing sent by this account can go until an admin enters them again."""

    def __init__(self, message: str, *, account_id: int) -> None:
        super().__init__(
            f"{message} (the provider refused this account's credentials: an admin must enter "
            "them again on the Channels page)"
        )
        self.account_id = account_id


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the parsed JSON; {} when the body was not JSON
    retry_after: float | None  # the Retry-After header, in seconds


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def call(
    method: str,
    url: str,
    *,
    payload: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request; any HTTP status comes back as an ``Answer`` (the adapter reads the
    provider's error body); a network failure raises ``TransientSendError`` (the URL, which may
    hold a token, is not in the message)."""
    data = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    if not url.startswith(("https://", "http://")):
        raise PermanentSendError("the provider's base URL must start with https:// or http://")
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (checked above)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json; charset=utf-8")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    timeout = float(settings.KHOSHNUD_PROVIDER_TIMEOUT_SECONDS)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw, retry = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, retry = exc.code, exc.read(), exc.headers
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransientSendError(f"network: {type(exc).__name__}: {reason}") from None
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {}
    return Answer(status=status, body=body, retry_after=_retry_after(retry.get("Retry-After")))


def classify_http(answer: Answer, what: str) -> None:
    """Raise ``what`` (the provider's own words) for a failed answer by its HTTP status alone:
    429 and 5xx transient, other 4xx permanent (adapters read their provider's codes first)."""
    if answer.status == 429 or answer.status >= 500:
        raise TransientSendError(what, retry_after=answer.retry_after)
    if answer.status >= 400:
        raise PermanentSendError(what)
