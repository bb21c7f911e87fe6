"""Rate limits on guessing credentials: the client address, and failed API token attempts.

Staff logins are throttled by django-axes (settings ``AXES_*``: per username and address, in the
database). API tokens get the same treatment here: after ``KHOSHNUD_TOKEN_FAILURE_LIMIT`` failed
attempts from one address within ``KHOSHNUD_TOKEN_FAILURE_WINDOW`` seconds, every token request
from that address answers 429 with ``Retry-After`` until the window ends, even with a right
token (otherwise a blocked guesser would still learn which guess was right). The counts live in
the database (``TokenFailure``), so several gunicorn processes and machines share them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from khoshnud.accounts.models import TokenFailure


class TokenThrottled(Exception):
    """Too many failed token attempts from this address; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"too many failed token attempts from this address; retry after {retry_after} s"
        )


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``KHOSHNUD_TRUSTED_PROXIES`` proxies the
    address the outermost trusted proxy saw (counted from the right of X-Forwarded-For)."""
    proxies: int = settings.KHOSHNUD_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [
            p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:45]
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login that comes with a request (the login page, the
    admin). A call without a request (Django's test client's ``login()``, a script) has no
    address to count by, so it passes to the next backend instead of failing."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> Any:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: object = None
) -> HttpResponse:
    """django-axes' answer to a locked-out login: a page in the viewer's language, 429."""
    cooloff = settings.AXES_COOLOFF_TIME
    seconds = int(cooloff.total_seconds())
    context = {"cooloff_minutes": max(1, math.ceil(seconds / 60))}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.KHOSHNUD_TOKEN_FAILURE_WINDOW)


def token_retry_after(*, ip: str, now: dt.datetime | None = None) -> int:
    """Seconds until ``ip`` may try tokens again; 0 when it may now. One indexed read."""
    now = now or timezone.now()
    row = TokenFailure.objects.filter(ip=ip).first()
    if row is None or row.count < settings.KHOSHNUD_TOKEN_FAILURE_LIMIT:
        return 0
    remaining = (row.window_started_at + _window() - now).total_seconds()
    return max(0, math.ceil(remaining))


@transaction.atomic
def token_failure_record(*, ip: str, now: dt.datetime | None = None) -> int:
    """Count one failed token attempt from ``ip``; returns the count in the current window.

    Transactional; the row is locked so that concurrent failures all count.
    """
    now = now or timezone.now()
    row, created = TokenFailure.objects.select_for_update().get_or_create(
        ip=ip, defaults={"count": 1, "window_started_at": now}
    )
    if created:
        return 1
    if now - row.window_started_at >= _window():
        row.count, row.window_started_at = 0, now
        # A new window here is a good moment to forget every other expired one.
        TokenFailure.objects.filter(window_started_at__lt=now - _window()).exclude(
            pk=row.pk
        ).delete()
    row.count += 1
    row.save(update_fields=["count", "window_started_at"])
    return row.count
