"""The managers' rules page: time-based automations and hand-off rules (cases/rules.py).
Thin views: the same service and validation as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Role, Scope
from khoshnud.cases.models import RuleKind
from khoshnud.cases.rules import case_rule_set, case_rules
from khoshnud.customers.models import Locale, Tier
from khoshnud.inputs import InputError


def _page(**extra: Any) -> dict[str, Any]:
    stored = case_rules()
    return {
        "rules": [(kind, label, stored[kind]) for kind, label in RuleKind.choices],
        "tiers": Tier.choices,
        "languages": Locale.choices,
        **extra,
    }


@staff_required(role=Role.MANAGER)
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    """Every rule, on or off, with its values."""
    return render(request, "web/case_rules.html", _page())


@staff_required(role=Role.MANAGER, scope=Scope.WRITE)
@require_POST
def rule_save(request: HttpRequest, kind: str) -> HttpResponse:
    """Save one rule; 400 with the reason (nothing changed) on a bad value."""
    if kind not in RuleKind.values:
        raise Http404(f"no rule {kind!r}")
    post = request.POST
    try:
        case_rule_set(
            kind=kind,
            enabled=post.get("enabled", ""),
            after=post.get("after", "").strip() or None,
            then=post.get("then", "").strip() or None,
            message=post.get("message", ""),
            messages={code: post.get(f"message-{code}", "") for code in Locale.values},
            tiers=post.getlist("tiers"),
            actor=request.user,
        )
    except InputError as exc:
        context = _page(error=exc.message, error_field=exc.field, error_kind=kind)
        return render(request, "web/case_rules.html", context, status=400)
    messages.success(request, _("Rule saved."))
    return redirect(reverse("web:case_rules"))
