"""API authentication (bearer tokens or a staff session) and the access checks every endpoint uses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from khoshnud.accounts.models import Role, Scope
from khoshnud.accounts.selectors import user_has_role
from khoshnud.accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = token_authenticate(token)
        if api_token is None:
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
            request.api_scopes = {Scope.READ, Scope.WRITE}  # type: ignore[attr-defined]
            return request.user
        return None


AUTH = [TokenAuth(), StaffSession(csrf=True)]


def require(request: HttpRequest, *, scope: str, role: Role = Role.AGENT) -> None:
    """Raise 403 unless the caller holds ``scope`` and at least ``role``."""
    scopes: set[str] = getattr(request, "api_scopes", set())
    if scope not in scopes:
        raise HttpError(403, f"this token lacks the '{scope}' scope")
    if not user_has_role(request.user, role):
        raise HttpError(403, f"this needs the {role.value} role or higher")
