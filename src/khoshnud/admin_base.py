"""Shared Django admin pieces: the site (the access rule's admin door) and the two kinds of admin.

Every model admin is one of two kinds (tests/accounts/test_admin.py fails on any other):

- ``ReadOnlyAdmin`` for what services own (customers, identities, the interaction log, orders,
  tokens, the audit log): the admin may look, never add, change or delete; the change goes
  through the service's own door (API, CLI, an admin action that calls the service).
- ``AuditedAdmin`` for plain reference data (products, teams, staff users): every addition,
  change and deletion writes an audit row in the same transaction as the change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from khoshnud.accounts.access import access_allowed
from khoshnud.accounts.models import Role


class KhoshnudAdminSite(admin.AdminSite):
    """The Django admin, open only to the admin role (khoshnud/accounts/access.py)."""

    def has_permission(self, request: HttpRequest) -> bool:
        return access_allowed(request.user, role=Role.ADMIN)


class AtomicActions(admin.ModelAdmin):
    """Admin actions (Django runs them outside a transaction) commit or roll back whole."""

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        with transaction.atomic(using=queryset.db):
            return super().response_action(request, queryset, *args, **kwargs)


class ReadOnlyAdmin(AtomicActions):
    """For records that only services write (the interaction log, the audit log, customers)."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """An inline of a read-only admin: shown, never edited there."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AuditedAdmin(AtomicActions):
    """Every change made here is also an ``admin.add`` / ``admin.change`` / ``admin.delete`` audit row.

    Django calls the ``log_*`` hooks inside the transaction of the change (the change form, the
    delete page, list editing); actions are made transactional here, so an audit row and its
    change commit or roll back together.
    """

    def _audit(self, request: HttpRequest, action: str, obj: models.Model, data: Any) -> None:
        from khoshnud.accounts.services import admin_change_audit

        admin_change_audit(actor=request.user, action=action, obj=obj, message=data)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        self._audit(request, "admin.add", obj, message)
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        self._audit(request, "admin.change", obj, message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, "admin.delete", obj, [])
        return entries
