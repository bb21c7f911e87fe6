"""Reads for staff and access."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from khoshnud.accounts.models import ROLE_RANK, Role


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    """The strongest role the user holds (superusers are admins), or None."""
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    # Read once per user object: a request asks it for the view, the header's links and the
    # access rule of each part of the page (five queries on a case page before this).
    if hasattr(user, "_khoshnud_role"):
        return user._khoshnud_role  # type: ignore[no-any-return]
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    held = [r for r in Role if r.value in names]
    role = max(held, key=lambda r: ROLE_RANK[r]) if held else None
    setattr(user, "_khoshnud_role", role)  # noqa: B010 - an attribute of our own
    return role


def user_has_role(user: AbstractBaseUser | AnonymousUser, role: Role) -> bool:
    """True when the user's role is ``role`` or stronger."""
    held = user_role(user)
    return held is not None and ROLE_RANK[held] >= ROLE_RANK[role]
