"""The agents' inbox and the case page: thin views over cases.selectors and cases.services.

Every read goes through ``cases.access.cases_visible_to`` / ``access_case`` (an agent sees the
cases of their teams, a manager all). Changes are plain POST forms answered by a redirect to
the case page (so they work without JavaScript); a refused change shows the case page again
with the reason and status 400, nothing stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from khoshnud import events
from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Role, Scope, Team
from khoshnud.accounts.selectors import user_has_role
from khoshnud.cases import services
from khoshnud.cases.access import access_case, cases_visible_to
from khoshnud.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Priority,
    Target,
)
from khoshnud.cases.products import case_product_set
from khoshnud.cases.replies import CaseClosed, case_reply
from khoshnud.cases.routing import agent_available
from khoshnud.cases.selectors import (
    INBOX_TABS,
    InboxFilter,
    case_handoffs,
    case_history,
    case_thread,
    customer_other_open_cases,
    inbox_cases,
    team_agents,
)
from khoshnud.cases.services import STATUS_NEXT
from khoshnud.channels.models import Provider
from khoshnud.channels.selectors import instagram_window, whatsapp_window_closed
from khoshnud.commerce.selectors import entitlement_at, products_list, support_periods
from khoshnud.customers.models import Locale
from khoshnud.customers.selectors import identities_of
from khoshnud.inputs import InputError
from khoshnud.interactions.models import Channel
from khoshnud.interactions.selectors import customer_timeline_page
from khoshnud.interactions.timeline import timeline_items
from khoshnud.language.models import Need, Sentiment
from khoshnud.web.templatetags.khoshnud_dates import knum

CASES_PER_PAGE = 25
RECENT_INTERACTIONS = 5
# The products offered on the case page's product field (any other SKU may be typed).
PRODUCT_CHOICES = 500


MESSAGING_CHANNELS = frozenset(Provider.values)


def _choice(value: str, allowed: list[str]) -> str:
    """A filter value from the URL, or "" (any) when it is not one of ``allowed``."""
    return value if value in allowed else ""


def _visible_teams(request: HttpRequest, *, manager: bool | None = None) -> list[Team]:
    if manager if manager is not None else user_has_role(request.user, Role.MANAGER):
        return list(Team.objects.order_by("name"))
    return list(Team.objects.filter(members__id=int(request.user.pk or 0)).order_by("name"))


def _inbox_filter(request: HttpRequest, teams: list[Team]) -> InboxFilter:
    get = request.GET
    team_id: int | None = None
    if get.get("team", "").isdigit() and int(get["team"]) in {t.pk for t in teams}:
        team_id = int(get["team"])
    return InboxFilter(
        tab=_choice(get.get("tab", ""), list(INBOX_TABS)) or "team",
        kind=_choice(get.get("kind", ""), list(CaseKind.values)),
        status=_choice(get.get("status", ""), list(CaseStatus.values)),
        priority=_choice(get.get("priority", ""), list(Priority.values)),
        channel=_choice(get.get("channel", ""), list(Channel.values)),
        language=_choice(get.get("language", ""), list(Locale.values)),
        team_id=team_id,
        query=get.get("q", "").strip()[:200],
    )


@staff_required()
@require_GET
def case_inbox(request: HttpRequest) -> HttpResponse:
    """My cases, my team's queue, unassigned, breaching soon; filters, search, 25 a page."""
    is_manager = user_has_role(request.user, Role.MANAGER)
    teams = _visible_teams(request, manager=is_manager)
    flt = _inbox_filter(request, teams)
    now = timezone.now()
    cases = inbox_cases(
        cases=cases_visible_to(user=request.user),
        user_id=int(request.user.pk or 0),
        flt=flt,
        now=now,
    )
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "flt": flt,
        "page": page,
        "now": now,
        "teams": teams,
        "tabs": [
            ("mine", _("My cases")),
            ("team", _("My team's queue")),
            ("unassigned", _("Unassigned")),
            ("breaching", _("Breaching soon")),
        ],
        "languages": Locale.choices,
        "open_statuses": OPEN_STATUSES,
        "me_available": agent_available(user_id=int(request.user.pk or 0)),
        "is_manager": is_manager,
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "case-results":
        return render(request, "web/_case_results.html", context)
    return render(request, "web/case_inbox.html", context)


def _case_or_404(request: HttpRequest, case_id: int) -> Case:
    try:
        return access_case(user=request.user, case_id=case_id)
    except Case.DoesNotExist:
        raise Http404(f"no case #{case_id}") from None


def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    links = dict(case.links.values_list("interaction_id", "role"))
    items = timeline_items(case_thread(case=case))
    for item in items:
        item["role"] = links.get(item["id"], "")
    customer = case.customer
    visible = cases_visible_to(user=request.user)
    agents = team_agents(team_id=case.team_id)
    now = timezone.now()
    periods = support_periods(customer_ids=[customer.pk]).get(customer.pk, [])
    return {
        "entitlement": entitlement_at(periods, now),
        "last_entitlement": periods[0] if periods else None,
        "case": case,
        "customer": customer,
        "now": now,
        "items": items,
        "history": _history_rows(case_history(case=case)),
        "handoffs": case_handoffs(case_ids=[case.pk])[case.pk],
        "breaches": list(case.breaches.order_by("due", "id")),
        "agents": agents,
        "away_ids": {  # marked in the assign list: assigning to them is refused
            a.pk
            for a in agents
            if not getattr(getattr(a, "agent_profile", None), "available", True)
        },
        "can_take": case.assignee_id is None and any(a.pk == request.user.pk for a in agents),
        "identities": identities_of(customer=customer),
        "recent": timeline_items(
            customer_timeline_page(customer_id=customer.pk, limit=RECENT_INTERACTIONS)
        ),
        "other_cases": customer_other_open_cases(
            cases=visible, customer_id=customer.pk, exclude_id=case.pk
        ),
        "next_statuses": sorted(STATUS_NEXT[case.status], key=CaseStatus.values.index),
        "kinds": [(k, label) for k, label in CaseKind.choices if k != case.kind],
        "priorities": Priority.choices,
        "products": products_list().values_list("sku", "name")[:PRODUCT_CHOICES],
        "can_change": case.status != CaseStatus.CLOSED,
        "open_statuses": OPEN_STATUSES,
        "need_choices": Need.choices,
        "sentiment_choices": Sentiment.choices,
        "messaging_channels": MESSAGING_CHANNELS,
        "reply_window_closed": (
            whatsapp_window_closed(customer_id=customer.pk)
            if case.channel == Channel.WHATSAPP
            else ""
        ),
        # WhatsApp's language codes for an approved template in the customer's language.
        "template_language": {"fa": "fa", "zh-hans": "zh_CN"}.get(customer.locale, "en"),
        "instagram_window": (
            instagram_window(customer_id=customer.pk)[0] if case.channel == "instagram" else ""
        ),
    }


def _action_names() -> dict[str, str]:
    return {
        events.CASE_OPENED: _("opened the case"),
        events.CASE_PRIORITY_RAISED: _("raised the priority"),
        events.CASE_FIRST_RESPONSE: _("first response"),
        events.CASE_ASSIGNED: _("changed the assignee"),
        events.CASE_STATUS_CHANGED: _("changed the status"),
        events.CASE_PRIORITY_CHANGED: _("changed the priority"),
        events.CASE_HANDED_OFF: _("handed the case off"),
        events.CASE_PRODUCT_CHANGED: _("changed the product"),
        events.CASE_NOTE_ADDED: _("added a note"),
        events.CASE_REPLIED: _("replied to the customer"),
        events.CASE_ROUTED: _("routed the case"),
        events.CASE_BREACHED: _("missed a target"),
        events.CASE_REMINDED: _("reminded the customer"),
        events.CASE_ESCALATED: _("escalated the case"),
        events.CASE_FOLLOW_UP: _("opened a care follow-up"),
    }


def _routing_reason(routing: dict[str, Any]) -> str:
    """Why routing gave the case to whom (or to nobody), in the viewer's language."""
    best = routing.get("chosen")
    if isinstance(best, dict):
        text = _("score %(score)s = rating %(rating)s/3 × (1 − %(load)s/%(cap)s), best of %(count)s") % {
            "score": best.get("score"), "rating": best.get("rating"), "load": best.get("load"),
            "cap": best.get("cap"), "count": routing.get("eligible"),
        }  # fmt: skip
        return text + (_("; equal scores: routed longest ago") if routing.get("tie") else "")
    skipped = routing.get("skipped") or {}

    def count(reason: str) -> int:
        return int((skipped.get(reason) or {}).get("count", 0))

    return _(
        "no eligible agent: %(away)s away, %(at_cap)s at their cap, %(kind)s without the kind, "
        "%(language)s without the language"
    ) % {r: count(r) for r in ("away", "at_cap", "kind", "language")}


def _value_name(field: str, value: object) -> str:
    """A stored code in the viewer's language (a status, kind, priority), else as stored."""
    if value is None:
        return "—"
    choices = {"status": CaseStatus, "kind": CaseKind, "priority": Priority}.get(field)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return str(value)


def _reason(reason: str, known: dict[str, str]) -> str:
    """A reason a service wrote, in the viewer's language (a person's own words as typed)."""
    if reason.startswith("follow-up of case ") and reason[18:].isdigit():
        return _("follow-up of case #%(id)s") % {"id": reason[18:]}
    return known.get(reason, reason)


def _sla_reason(event: CaseEvent) -> str:
    """Which targets a breach missed; how long an escalated case waited (docs/sla.md)."""
    if event.action == events.CASE_BREACHED:
        targets = [str(Target(t).label) for t in event.changes.get("targets", [])
                   if t in Target.values]  # fmt: skip
        return _(", ").join(targets)
    if event.action == events.CASE_ESCALATED and "minutes" in event.changes:
        return _("unassigned for %(minutes)s minutes") % {
            "minutes": knum(str(event.changes["minutes"]))
        }
    return ""


def _history_rows(found: list[CaseEvent]) -> list[dict[str, Any]]:
    """The case's history worded for the viewer: who, what, from → to (stored codes named)."""
    actions = _action_names()
    fields = {
        "status": _("status"),
        "kind": _("kind"),
        "priority": _("priority"),
        "team": _("team"),
        "assignee": _("assignee"),
        "product": _("product"),
    }
    # The reasons the services write themselves; a person's own words are shown as typed.
    reasons = {
        "taken": _("taken"),
        "opened by hand": _("opened by hand"),
        "reopened": _("reopened"),
        "customer answered": _("customer answered"),
        "no answer from the customer": _("no answer from the customer"),
    }
    rows = []
    for event in found:
        changes = [
            (str(fields[name]), _value_name(name, change.get("from")),
             _value_name(name, change.get("to")))
            for name, change in event.changes.items()
            if name in fields and isinstance(change, dict)
        ]  # fmt: skip
        rows.append({
            "at": event.created_at,
            "actor": event.actor.get_username() if event.actor else _("automatic"),
            "action": actions.get(event.action, event.action),
            "changes": changes,
            "reason": _routing_reason(event.changes["routing"])
            if event.action == events.CASE_ROUTED and isinstance(event.changes.get("routing"), dict)
            else _sla_reason(event) or _reason(event.reason, reasons),
        })  # fmt: skip
    return rows


@staff_required()
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    return render(request, "web/case_detail.html", _case_context(request, case))


def _change(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """Run one desk service with the form's values; redirect back, or 400 with the reason."""
    case = _case_or_404(request, case_id)  # 404 / 403 before reading the form
    post = request.POST
    try:
        if action == "take":
            services.case_take(case_id=case.pk, actor=request.user)
            done = _("You took this case.")
        elif action == "assign":
            services.case_assign(
                case_id=case.pk, assignee_id=post.get("assignee") or None, actor=request.user
            )
            done = _("Assignment saved.")
        elif action == "status":
            services.case_status_set(
                case_id=case.pk, status=post.get("status", ""), actor=request.user
            )
            done = _("Status saved.")
        elif action == "priority":
            services.case_priority_set(
                case_id=case.pk, priority=post.get("priority", ""), actor=request.user
            )
            done = _("Priority saved.")
        elif action == "product":
            case_product_set(
                case_id=case.pk, sku=post.get("product", "").strip(), actor=request.user
            )
            done = _("Product saved.")
        elif action == "kind":
            services.case_kind_change(
                case_id=case.pk,
                kind=post.get("kind", ""),
                actor=request.user,
                reason=post.get("reason", "").strip()[:200],
            )
            done = _("Case handed off.")
        elif action == "reply":
            template = None
            if "template_name" in post:  # WhatsApp's approved template, outside its window
                template = {
                    "name": post.get("template_name", "").strip(),
                    "language": post.get("template_language", "").strip(),
                    "params": [p.strip() for p in post.get("template_params", "").splitlines()
                               if p.strip()],
                }  # fmt: skip
            reply = case_reply(
                case=case, text=post.get("text", ""), actor=request.user, template=template
            )
            # A messaging address is "<account id>:<chat>": the person reads the chat.
            shown = reply.address.partition(":")[2] if reply.channel in MESSAGING_CHANNELS else ""
            done = _("Reply queued for %(address)s.") % {"address": shown or reply.address}
        else:  # "note"
            services.case_note_add(case_id=case.pk, text=post.get("text", ""), actor=request.user)
            done = _("Note added.")
    except (InputError, CaseClosed) as exc:
        fresh = _case_or_404(request, case_id)
        reason = exc.message if isinstance(exc, InputError) else _("A closed case takes no reply.")
        context = {**_case_context(request, fresh), "error": reason, "error_action": action}
        if action in ("note", "reply"):
            context[f"{action}_text"] = post.get("text", "")
        return render(request, "web/case_detail.html", context, status=400)
    messages.success(request, done)
    try:
        access_case(user=request.user, case_id=case.pk)
    except PermissionDenied:  # handed to a team the agent is not in: back to the inbox
        return redirect(reverse("web:case_inbox"))
    return redirect(reverse("web:case_detail", args=[case.pk]))


def _post_view(action: str) -> Any:
    @staff_required(scope=Scope.WRITE)
    @require_POST
    def view(request: HttpRequest, case_id: int) -> HttpResponse:
        return _change(request, case_id, action)

    view.__name__ = view.__qualname__ = f"case_{action}"
    return view


case_take = _post_view("take")
case_assign = _post_view("assign")
case_status = _post_view("status")
case_priority = _post_view("priority")
case_kind = _post_view("kind")
case_product = _post_view("product")
case_note = _post_view("note")
case_reply_send = _post_view("reply")
