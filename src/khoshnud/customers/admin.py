"""Django admin for customers: read-only, as the services own every change.

Create, update, merge and erase through the API, the UI or the CSV import; each of those checks
its input, keeps the history and writes an audit row. Deleting a customer here would leave
their messages behind unaudited, so the admin cannot.
"""

from __future__ import annotations

from django.contrib import admin

from khoshnud.admin_base import ReadOnlyAdmin, ReadOnlyInline
from khoshnud.admin_display import viewer_datetime
from khoshnud.customers.models import Consent, Customer, Identity, PersonalDate


class IdentityInline(ReadOnlyInline):
    model = Identity


class PersonalDateInline(ReadOnlyInline):
    model = PersonalDate


class ConsentInline(ReadOnlyInline):
    model = Consent


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "first_name",
        "last_name",
        "locale",
        "tier",
        viewer_datetime(Customer, "created_at"),
    ]
    list_filter = ["tier", "locale", "calendar"]
    search_fields = ["search_text"]
    readonly_fields = ["search_text", "merged_into", "customer_since", "updated"]
    customer_since = staticmethod(viewer_datetime(Customer, "created_at"))
    updated = staticmethod(viewer_datetime(Customer, "updated_at"))
    inlines = [IdentityInline, PersonalDateInline, ConsentInline]
