"""The interaction log in the admin: read-only, as the log is append-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from khoshnud.interactions.models import Interaction


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["id", "customer_id", "channel", "direction", "type", "stage", "occurred_at"]
    list_filter = ["channel", "direction", "type", "stage"]
    search_fields = ["external_id", "source"]
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
