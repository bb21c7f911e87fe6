"""The interaction log in the admin: read-only, as the log is append-only."""

from __future__ import annotations

from django.contrib import admin

from khoshnud.admin_base import ReadOnlyAdmin
from khoshnud.admin_display import viewer_datetime
from khoshnud.interactions.models import Interaction


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "customer_id",
        "channel",
        "direction",
        "type",
        "stage",
        viewer_datetime(Interaction, "occurred_at"),
    ]
    list_filter = ["channel", "direction", "type", "stage"]
    search_fields = ["external_id", "source"]
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page
