"""Django admin for customers: read-only, as the services own every change.

Create, update, merge and erase through the API, the UI or the CSV import; each of those checks
its input, keeps the history and writes an audit row. Deleting a customer here would leave
their messages behind unaudited, so the admin cannot.
"""

from __future__ import annotations

from django.contrib import admin

from khoshnud.admin_base import ReadOnlyAdmin, ReadOnlyInline
from khoshnud.customers.models import Consent, Customer, Identity, PersonalDate


class IdentityInline(ReadOnlyInline):
    model = Identity


class PersonalDateInline(ReadOnlyInline):
    model = PersonalDate


class ConsentInline(ReadOnlyInline):
    model = Consent


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["id", "first_name", "last_name", "locale", "tier", "created_at"]
    list_filter = ["tier", "locale", "calendar"]
    search_fields = ["search_text"]
    inlines = [IdentityInline, PersonalDateInline, ConsentInline]
