"""API authentication (bearer tokens or a staff session) and the access checks every endpoint uses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from khoshnud.accounts.access import SESSION_SCOPES, AccessDenied, access_require
from khoshnud.accounts.models import Role
from khoshnud.accounts.services import token_authenticate
from khoshnud.accounts.throttle import (
    TokenThrottled,
    client_ip,
    token_failure_record,
    token_retry_after,
)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        ip = client_ip(request)
        retry_after = token_retry_after(ip=ip)
        if retry_after:
            raise TokenThrottled(retry_after)  # answered 429 with Retry-After (khoshnud/api.py)
        api_token = token_authenticate(token)
        if api_token is None:
            token_failure_record(ip=ip)
            return None
        request.user = api_token.user
        request.api_scopes = set(api_token.scopes)  # type: ignore[attr-defined]
        return api_token


class StaffSession(APIKeyCookie):
    """The web UI's own session (CSRF-checked for writes), with every scope of the user's role."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        # Only a request signed in by its session is checked for CSRF: one without credentials,
        # or with a wrong or revoked token, is answered 401 by the caller, never 403 "CSRF".
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated:
            request.api_scopes = SESSION_SCOPES  # type: ignore[attr-defined]
            return request.user
        return None


AUTH = [TokenAuth(), StaffSession(csrf=True)]


def require(request: HttpRequest, *, scope: str, role: Role = Role.AGENT) -> None:
    """Raise 403 unless the caller passes the access rule (khoshnud/accounts/access.py)."""
    try:
        access_require(
            request.user, role=role, scope=scope, scopes=getattr(request, "api_scopes", set())
        )
    except AccessDenied as exc:
        raise HttpError(403, str(exc)) from None
