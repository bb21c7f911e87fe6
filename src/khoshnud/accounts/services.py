"""Writes for staff and access: users with roles, API tokens, the audit log."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from khoshnud.accounts.models import ApiToken, AuditLog, Role, Scope, Team

TOKEN_PREFIX = "khn_"  # noqa: S105 - a public prefix, not a secret


def audit_log(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    object_type: str,
    object_id: object,
    customer_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row; call it inside the transaction of the action it records."""
    return AuditLog.objects.create(
        actor=actor if isinstance(actor, User) else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        customer_id=customer_id,
        data=data or {},
    )


def admin_change_audit(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model,
    message: Any = None,
) -> AuditLog:
    """Audit one change made in the Django admin (``admin.add`` / ``admin.change`` /
    ``admin.delete``); the admin calls it inside the change's own transaction."""
    if action not in {"admin.add", "admin.change", "admin.delete"}:
        raise ValueError(f"unknown admin action {action!r}")
    changes = json.loads(json.dumps(message or [], default=str))
    customer_id = getattr(obj, "customer_id", None)
    return audit_log(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        customer_id=customer_id if isinstance(customer_id, int) else None,
        data={"repr": str(obj)[:200], "changes": changes},
    )


def roles_ensure() -> None:
    """Create the role groups (idempotent)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    email: str = "",
    teams: Iterable[str] = (),
    actor: User | None = None,
) -> User:
    """Create a staff user in one role (agent / manager / admin); admins get the Django admin too."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; use one of {Role.values}")
    if User.objects.filter(username=username).exists():
        raise ValueError(f"a user named {username!r} already exists")
    try:  # the same validators as Django's own password forms (settings.AUTH_PASSWORD_VALIDATORS)
        validate_password(
            password, user=User(username=username, first_name=first_name, email=email)
        )
    except ValidationError as exc:
        raise ValueError("password refused: " + " ".join(exc.messages)) from None
    roles_ensure()
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, email=email
    )
    user.is_staff = role == Role.ADMIN  # the admin site opens for the admin role only
    user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.add(Group.objects.get(name=role))
    for team_name in teams:
        team, _created = Team.objects.get_or_create(name=team_name)
        team.members.add(user)
    audit_log(
        actor=actor,
        action="staff.create",
        object_type="user",
        object_id=user.pk,
        data={"username": username, "role": role},
    )
    return user


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user: User, scopes: Iterable[str], name: str = "", actor: User | None = None
) -> tuple[ApiToken, str]:
    """Create an API token. Returns the row and the secret, which is shown once and never stored."""
    scope_list = sorted({s.strip() for s in scopes if s.strip()})
    if not scope_list:
        raise ValueError("a token needs at least one scope: read, write")
    unknown = [s for s in scope_list if s not in Scope.values]
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}; use read and/or write")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:12], key_hash=_hash(secret), scopes=scope_list
    )
    audit_log(
        actor=actor or user,
        action="token.create",
        object_type="api_token",
        object_id=token.pk,
        data={"scopes": scope_list, "prefix": token.prefix},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Revoke a token (idempotent): it stops authenticating at once."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_log(
            actor=actor or token.user,
            action="token.revoke",
            object_type="api_token",
            object_id=token.pk,
        )
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The active token whose hash matches ``secret``, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        # Touch at most once a minute: authentication must not write on every request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
