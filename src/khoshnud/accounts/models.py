"""Staff, teams, roles, API tokens and the audit log used by every app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups of these names; permissions follow the group."""

    AGENT = "agent", _("Agent")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


# Ordered from least to most powerful: a manager may do what an agent may.
ROLE_RANK = {Role.AGENT: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Scope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiToken(models.Model):
    """A bearer token for integrations. Only a SHA-256 hash of the secret is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(max_length=100, blank=True, verbose_name=_("name"))
    prefix = models.CharField(max_length=12, db_index=True, verbose_name=_("prefix"))
    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("key hash"))
    scopes = models.JSONField(default=list, verbose_name=_("scopes"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditLog(models.Model):
    """Who did what to which object; written by services in the same transaction."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("actor"),
    )
    action = models.CharField(max_length=64, db_index=True, verbose_name=_("action"))
    object_type = models.CharField(max_length=64, verbose_name=_("object type"))
    object_id = models.CharField(max_length=64, verbose_name=_("object id"))
    customer_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, verbose_name=_("customer id")
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("time"))

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class TokenFailure(models.Model):
    """Failed API token attempts of one client address in the current window.

    Kept in the database so that every web process (and machine) sees the same count.
    """

    ip = models.CharField(max_length=45, unique=True, verbose_name=_("client address"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("failed attempts"))
    window_started_at = models.DateTimeField(verbose_name=_("window started at"))

    class Meta:
        verbose_name = _("failed token attempts")
        verbose_name_plural = _("failed token attempts")

    def __str__(self) -> str:
        return f"{self.ip}: {self.count}"


class AgentProfile(models.Model):
    """How automatic case routing treats one staff member (docs/routing.md).

    ``kinds``: the case kinds (service / support / care) routing gives the agent; empty: routing
    gives them nothing (they still take and are assigned cases by hand). ``languages``: the
    customer languages they handle (``customers.Locale`` codes); empty: any. An agent who is
    away gets no new case, by routing or by hand. ``max_open_cases`` caps their open cases;
    empty: ``settings.KHOSHNUD_ROUTING_MAX_OPEN_CASES``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_profile",
        verbose_name=_("user"),
    )
    kinds = models.JSONField(default=list, blank=True, verbose_name=_("case kinds"))
    languages = models.JSONField(default=list, blank=True, verbose_name=_("languages"))
    available = models.BooleanField(default=True, verbose_name=_("available"))
    availability_changed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("availability changed")
    )
    max_open_cases = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("most open cases")
    )
    # Round-robin among equal scores: the one routed longest ago goes first (never: first).
    last_routed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last routed"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated"))

    class Meta:
        verbose_name = _("agent routing profile")
        verbose_name_plural = _("agent routing profiles")
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({', '.join(self.kinds) or '-'})"
