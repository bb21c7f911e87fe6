"""Routing in the web UI: an agent's own availability toggle, and the managers' agents page
(skills, languages, cap, availability of every agent). Thin views over cases.assignment and
cases.routing; the same services and rules as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Role, Scope
from khoshnud.cases.assignment import agent_availability_set, agent_profile_update
from khoshnud.cases.models import CaseKind
from khoshnud.cases.routing import agents_routing
from khoshnud.customers.models import Locale
from khoshnud.inputs import InputError


@staff_required(scope=Scope.WRITE)
@require_POST
def agent_availability(request: HttpRequest) -> HttpResponse:
    """The signed-in agent marks themself available ("1") or away ("0")."""
    available = request.POST.get("available", "")
    if available not in ("0", "1"):
        messages.error(request, _("Choose available or away."))
    else:
        agent_availability_set(
            user_id=request.user.pk, available=available == "1", actor=request.user
        )
        messages.success(
            request, _("You are available for new cases.") if available == "1" else
            _("You are away: no new cases come to you until you are back."),
        )  # fmt: skip
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:case_inbox")
    return redirect(target)


def _page(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "agents": agents_routing(),
        "kinds": CaseKind.choices,
        "languages": Locale.choices,
        **extra,
    }


@staff_required(role=Role.MANAGER)
@require_GET
def agent_list(request: HttpRequest) -> HttpResponse:
    """Every agent of a team: kinds and languages routed to them, cap, load, availability."""
    return render(request, "web/agents.html", _page(request))


@staff_required(role=Role.MANAGER, scope=Scope.WRITE)
@require_POST
def agent_update(request: HttpRequest, user_id: int) -> HttpResponse:
    """Save one agent's routing; 400 with the reason (nothing changed) on a bad value."""
    post = request.POST
    # Missing: leave the availability as it is.
    available = {"1": True, "0": False, "": None}.get(post.get("available", ""), "")
    try:
        agent_profile_update(
            user_id=user_id,
            kinds=post.getlist("kinds"),
            languages=post.getlist("languages"),
            max_open_cases=post.get("max_open_cases", "").strip(),
            available=available,
            actor=request.user,
        )
    except InputError as exc:
        context = _page(request, error=exc.message, error_user=user_id)
        return render(request, "web/agents.html", context, status=400)
    messages.success(request, _("Routing saved."))
    return redirect(reverse("web:agent_list"))
