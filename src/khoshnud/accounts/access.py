"""The one access rule for the web UI, the API, exports and the admin.

A caller may do something when

1. it is an active staff user holding a role (agent < manager < admin; superusers are admins)
   at least as strong as the one the action needs, and
2. it holds the scope the action needs: a browser session holds every scope, an API token only
   the scopes it was created with.

A signed-in user without a role may do nothing. Every door asks ``access_require``; none checks
permissions by hand. The API turns a refusal into a 403 JSON answer, the web UI into its 403
page, and the admin site only opens for the admin role.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from khoshnud.accounts.models import Role, Scope
from khoshnud.accounts.selectors import user_has_role

# A browser session (web UI, the API used from the browser, the admin) holds every scope.
SESSION_SCOPES = frozenset(Scope.values)


class AccessDenied(PermissionDenied):
    """The caller lacks the role or the scope; ``str()`` says which, for the 403 answer."""


def access_require(
    user: AbstractBaseUser | AnonymousUser,
    *,
    role: Role = Role.AGENT,
    scope: str = Scope.READ,
    scopes: Collection[str] = SESSION_SCOPES,
) -> None:
    """Raise ``AccessDenied`` unless ``user`` holds ``role`` (or stronger) and ``scope``.

    ``scopes`` are the scopes of the credential in use: every scope for a session, the token's
    own for an API token. Reads the user's groups (one query); writes nothing.
    """
    if scope not in scopes:
        raise AccessDenied(f"this token lacks the '{scope}' scope")
    if not user.is_authenticated or not user.is_active:
        raise AccessDenied("authentication required")
    if not user_has_role(user, role):
        raise AccessDenied(f"this needs the {role.value} role or higher")


def access_allowed(
    user: AbstractBaseUser | AnonymousUser,
    *,
    role: Role = Role.AGENT,
    scope: str = Scope.READ,
    scopes: Collection[str] = SESSION_SCOPES,
) -> bool:
    """``access_require`` as a yes/no (for templates and the admin site)."""
    try:
        access_require(user, role=role, scope=scope, scopes=scopes)
    except AccessDenied:
        return False
    return True


View = TypeVar("View", bound=Callable[..., HttpResponse])


def staff_required(*, role: Role = Role.AGENT, scope: str = Scope.READ) -> Callable[[View], View]:
    """Decorate a web view: anonymous callers go to the login page, others need the role.

    A signed-in user who fails the rule gets the 403 page (``PermissionDenied``).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            access_require(request.user, role=role, scope=scope)
            return view(request, *args, **kwargs)

        return cast(View, login_required(wrapped))

    return decorator
