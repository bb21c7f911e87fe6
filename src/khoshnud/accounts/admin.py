"""Django admin for staff access (admin role only); every change here is audited.

Tokens are created with `khoshnud token create` (the secret is shown once) and are read-only
here; the one change the admin may make is to revoke them, through the service.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from khoshnud.accounts.models import AgentProfile, ApiToken, AuditLog, Team
from khoshnud.accounts.services import token_revoke
from khoshnud.admin_base import AuditedAdmin, ReadOnlyAdmin
from khoshnud.admin_display import viewer_datetime


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", viewer_datetime(Team, "created_at")]
    filter_horizontal = ["members"]
    search_fields = ["name"]


# Routing profiles are changed on the agents page (/agents/) through the routing services, which
# audit them; here they are shown only.
@admin.register(AgentProfile)
class AgentProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "kinds", "languages", "available", "max_open_cases",
                    viewer_datetime(AgentProfile, "last_routed_at")]  # fmt: skip
    list_filter = ["available"]
    search_fields = ["user__username"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
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
    exclude = ["key_hash"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = [t for t in queryset.select_related("user") if t.revoked_at is None]
        for token in tokens:
            token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        count = len(tokens)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


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


# Staff users: audited edits (Django's forms check passwords with the validators).
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(AuditedAdmin, UserAdmin):  # type: ignore[misc]
    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's password page is not transactional; the audit row must commit with it.
        with transaction.atomic(using=self.model.objects.db):
            return super().user_change_password(request, id, form_url)


# The role groups are fixed by name (khoshnud.accounts.models.Role): shown, not edited.
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdmin, GroupAdmin):  # type: ignore[misc]
    pass


# Login throttling (django-axes): deleting an attempt unlocks a login, so it is audited; the
# access logs are records, read-only.
admin.site.unregister(AccessAttempt)
admin.site.unregister(AccessLog)
admin.site.unregister(AccessFailureLog)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AuditedAdmin, AccessAttemptAdmin):  # type: ignore[misc]
    pass


@admin.register(AccessLog)
class LoginLogAdmin(ReadOnlyAdmin, AccessLogAdmin):  # type: ignore[misc]
    pass


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(ReadOnlyAdmin, AccessFailureLogAdmin):  # type: ignore[misc]
    pass
