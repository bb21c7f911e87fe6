"""Channel accounts in the admin: read-only (added through the channels page or the API, the
service's doors), credentials shown masked, never in clear."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from khoshnud.admin_base import ReadOnlyAdmin
from khoshnud.channels import credentials as creds
from khoshnud.channels.models import ChannelAccount


@admin.register(ChannelAccount)
class ChannelAccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "provider", "name", "is_active", "last_test_status", "created_at"]
    list_filter = ["provider", "is_active"]
    search_fields = ["name"]
    fields = ("provider", "name", "is_active", "masked_credentials", "last_test_status",
              "last_test_error", "last_test_at", "created_at")  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("credentials"))
    def masked_credentials(self, obj: ChannelAccount) -> str:
        try:
            values = creds.decrypt(obj.credentials_encrypted)
        except creds.CredentialsUnreadable:
            return str(_("unreadable: enter them again"))
        return ", ".join(f"{k}: {creds.mask(v)}" for k, v in sorted(values.items()))
