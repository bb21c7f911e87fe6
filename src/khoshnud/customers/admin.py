"""Django admin for customers (writes in the UI/API go through the services)."""

from __future__ import annotations

from django.contrib import admin

from khoshnud.admin_display import viewer_datetime
from khoshnud.customers.models import Consent, Customer, Identity, PersonalDate


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


class PersonalDateInline(admin.TabularInline):
    model = PersonalDate
    extra = 0


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    readonly_fields = ["recorded_at", "recorded_by"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
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
