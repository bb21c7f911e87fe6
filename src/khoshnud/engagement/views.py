"""Web doors of the engagement app: the public unsubscribe link, and the Outreach pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from khoshnud.accounts.access import access_require, staff_required
from khoshnud.accounts.models import Role, Scope
from khoshnud.calendars import latin_digits
from khoshnud.customers.models import Customer
from khoshnud.engagement.models import OccasionKind, Rule, RuleKind, Send, SendStatus
from khoshnud.engagement.scheduler import route
from khoshnud.engagement.selectors import (
    message_for,
    preview_customers,
    preview_occasion,
    rule_as_input,
    rules_list,
    sends_log,
    upcoming,
)
from khoshnud.engagement.sending import unsubscribe_send_id
from khoshnud.engagement.services import (
    SENDING_CHANNELS,
    consent_in_force,
    opt_out,
    rule_create,
    rule_set_active,
    rule_update,
)
from khoshnud.engagement.templating import FIELDS
from khoshnud.inputs import InputError


@csrf_exempt  # mail clients post the one-click unsubscribe (RFC 8058) without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The opt-out link of an outreach email: it takes effect at once, on GET (the link) and
    on POST (``List-Unsubscribe-Post``), and says so in the customer's language."""
    send_id = unsubscribe_send_id(token)
    send = Send.objects.filter(pk=send_id).first() if send_id else None
    if send is None:
        return render(request, "engagement/unsubscribe.html", {"ok": False}, status=404)
    opt_out(customer_id=send.customer_id, channel=send.channel, how="unsubscribe link")
    with translation.override(send.locale or "en"):
        return render(request, "engagement/unsubscribe.html", {"ok": True, "send": send})


# --- The Outreach pages (staff) ---------------------------------------------------------

LOG_PAGE = 100


def _form_data(post: Any) -> dict[str, Any]:
    """The editor's form as the API body ``rule_clean`` takes."""
    channels = [c for c in (post.get("channel1"), post.get("channel2"), post.get("channel3")) if c]
    ids = [x for x in post.get("audience_ids", "").replace("،", ",").split(",") if x.strip()]
    quiet = [post.get("quiet_start", ""), post.get("quiet_end", "")]
    return {
        "name": post.get("name", "").strip(),
        "kind": post.get("kind") or None,
        "occasion": post.get("occasion") or None,
        "lead_days": latin_digits(post.get("lead_days", "0") or "0"),
        "event": post.get("event", ""),
        "inactivity_days": latin_digits(post.get("inactivity_days", "") or "0"),
        "audience": {"customer_ids": [latin_digits(x.strip()) for x in ids]} if ids else {},
        "channels": channels,
        "send_window": [post.get("window_start", ""), post.get("window_end", "")],
        "quiet_hours": quiet if all(quiet) else None,
        "weekly_cap": latin_digits(post.get("weekly_cap", "1") or "1"),
        "offer_code": post.get("offer_code", ""),
        "products": post.get("products", ""),
        "templates": {
            locale: {
                "subject": post.get(f"subject_{key}", ""),
                "body": post.get(f"body_{key}", ""),
            }
            for locale, key in (("fa", "fa"), ("en", "en"), ("zh-hans", "zh"))
            if post.get(f"body_{key}", "").strip()
        },
        "is_active": post.get("is_active") == "on",
    }


def _editor(
    request: HttpRequest,
    *,
    rule: Rule | None,
    values: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    preview = None
    preview_error = ""
    picked = request.GET.get("customer", "")
    if rule is not None and picked:
        customer = Customer.objects.filter(pk=int(picked) if picked.isdigit() else 0).first()
        if customer is None:
            preview_error = gettext("No customer with this number.")
        else:
            locale, subject, text = message_for(
                rule=rule,
                customer=customer,
                occasion=preview_occasion(rule=rule, customer=customer),
            )
            found = route(
                rule,
                customer,
                consent_in_force(customer_ids=[customer.pk], channels=rule.channels),
            )
            preview = {
                "customer": customer,
                "locale": locale,
                "dir": "rtl" if locale == "fa" else "ltr",
                "subject": subject,
                "text": text,
                "channel": found[0] if found else "",
            }
    context = {
        "rule": rule,
        "v": values,
        "error": error,
        "kinds": RuleKind.choices,
        "occasions": OccasionKind.choices,
        "channel_choices": [(c, c) for c in SENDING_CHANNELS],
        "fields": FIELDS,
        "preview": preview,
        "preview_error": preview_error,
        "preview_customers": preview_customers(rule) if rule else [],
        "picked": picked,
    }
    return render(request, "engagement/rule_edit.html", context, status=status)


def _values(rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "kind": "occasion",
            "occasion": "birthday",
            "lead_days": 1,
            "channels": ["email", "sms", ""],
            "send_window": ["09:00", "20:00"],
            "quiet_hours": None,
            "weekly_cap": 1,
            "templates": {},
            "is_active": False,  # previewed with a customer before it is switched on
        }
    values = rule_as_input(rule)
    values["channels"] = [*values["channels"], "", "", ""][:3]
    return values


def _post_values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    values["channels"] = [*data["channels"], "", "", ""][:3]
    values["audience_ids"] = ", ".join(str(i) for i in data["audience"].get("customer_ids", []))
    return values


@staff_required()
@require_GET
def outreach_home(request: HttpRequest) -> HttpResponse:
    """Rules, tomorrow's messages and the occasions of the next 30 days."""
    today = timezone.localdate()
    rows = upcoming(days=30, today=today)
    tomorrow = today + dt.timedelta(days=1)
    soon = [
        u
        for u in rows
        if u.send_at is not None and u.send_at.date() == tomorrow and u.rule_id is not None
    ]
    context = {
        "rules": rules_list(),
        "upcoming": rows[:300],
        "tomorrow": soon,
        "tomorrow_day": tomorrow,
        "today": today,
    }
    return render(request, "engagement/home.html", context)


@staff_required()
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _editor(request, rule=None, values=_values(None))
    access_require(request.user, role=Role.MANAGER, scope=Scope.WRITE)
    data = _form_data(request.POST)
    try:
        rule = rule_create(data=data, actor=request.user)
    except InputError as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return _editor(request, rule=None, values=_post_values(data), error=message, status=400)
    messages.success(request, gettext("Rule saved. Preview it with a customer, then switch it on."))
    return redirect("engagement:rule_edit", rule.pk)


@staff_required()
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    if request.method == "GET":
        return _editor(request, rule=rule, values=_values(rule))
    access_require(request.user, role=Role.MANAGER, scope=Scope.WRITE)
    data = _form_data(request.POST)
    try:
        rule_update(rule=rule, data=data, actor=request.user)
    except InputError as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return _editor(request, rule=rule, values=_post_values(data), error=message, status=400)
    messages.success(request, gettext("Rule saved."))
    return redirect("engagement:rule_edit", rule.pk)


@staff_required(role=Role.MANAGER, scope=Scope.WRITE)
@require_POST
def rule_activate(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    rule_set_active(rule=rule, active=request.POST.get("active") == "1", actor=request.user)
    return redirect("engagement:rule_edit", rule.pk)


@staff_required()
@require_GET
def delivery_log(request: HttpRequest) -> HttpResponse:
    """Every outreach message, newest first, filtered by status, channel and rule."""
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    rule = request.GET.get("rule", "")
    rows = sends_log(
        status=status if status in SendStatus.values else "",
        channel=channel if channel in SENDING_CHANNELS else "",
        rule_id=int(rule) if rule.isdigit() else None,
    )
    context = {
        "rows": rows[:LOG_PAGE],
        "statuses": SendStatus.choices,
        "channels": SENDING_CHANNELS,
        "rules": rules_list(),
        "f": {"status": status, "channel": channel, "rule": rule},
    }
    return render(request, "engagement/log.html", context)
