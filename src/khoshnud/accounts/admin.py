"""Django admin for staff access; tokens are created with `khoshnud token create` (shown once)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from khoshnud.accounts.models import ApiToken, AuditLog, Team
from khoshnud.admin_base import ReadOnlyAdmin
from khoshnud.admin_display import viewer_datetime


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", viewer_datetime(Team, "created_at")]
    filter_horizontal = ["members"]
    search_fields = ["name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "scopes",
        viewer_datetime(ApiToken, "created_at"),
        viewer_datetime(ApiToken, "last_used_at"),
        viewer_datetime(ApiToken, "revoked_at"),
    ]
    list_filter = ["revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret must be shown once: `khoshnud token create`


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = [
        viewer_datetime(AuditLog, "created_at"),
        "actor",
        "action",
        "object_type",
        "object_id",
        "customer_id",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action"]
