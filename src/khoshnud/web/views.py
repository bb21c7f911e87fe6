"""Staff web UI: thin views that parse input, call selectors/services and render.

htmx requests (``HX-Request``) get fragments; everything also works as plain GET/POST without
JavaScript. Every view names what it needs with ``staff_required`` (the access rule shared with
the API and the admin: khoshnud/accounts/access.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Scope
from khoshnud.calendars import input_calendar
from khoshnud.cases.access import cases_visible_to
from khoshnud.cases.selectors import open_cases_of_customer
from khoshnud.commerce.selectors import orders_of_customer
from khoshnud.customers.models import Customer, Identity
from khoshnud.customers.selectors import (
    consents_current,
    customer_channel_counts,
    customer_get,
    customer_search,
    identities_of,
    personal_dates_upcoming,
)
from khoshnud.engagement.selectors import customer_outreach
from khoshnud.interactions.selectors import customer_timeline as timeline_select
from khoshnud.interactions.selectors import customer_timeline_page as timeline_page
from khoshnud.interactions.timeline import timeline_items
from khoshnud.language.models import Need, Sentiment
from khoshnud.web.timeline_filter import PAGE_SIZE, TimelineFilter, timeline_filter_parse

CUSTOMERS_PER_PAGE = 25
ORDERS_SHOWN = 10


def _is_htmx(request: HttpRequest) -> bool:
    # A history restore asks for the whole page even though it comes from htmx.
    return bool(
        request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    )


def _primary_identities(customer: Customer) -> list[Identity]:
    """The identities marked primary or else the first email and phone (from the prefetch)."""
    identities = list(customer.identities.all())
    primary = [i for i in identities if i.is_primary]
    if primary:
        return primary
    firsts: dict[str, Identity] = {}
    for identity in identities:
        firsts.setdefault(identity.kind, identity)
    chosen = [firsts[k] for k in ("email", "phone") if k in firsts]
    return chosen or identities[:1]


@staff_required()
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    customers = customer_search(query=query).prefetch_related("identities")
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"customer": c, "identities": _primary_identities(c)} for c in page.object_list]
    context = {"query": query, "page": page, "rows": rows}
    if _is_htmx(request) and request.headers.get("HX-Target") == "customer-results":
        return render(request, "web/_customer_results.html", context)
    return render(request, "web/customer_list.html", context)


def _timeline_context(
    request: HttpRequest, customer: Customer, flt: TimelineFilter
) -> dict[str, Any]:
    rows = timeline_page(
        customer_id=customer.pk,
        start=flt.start,
        end=flt.end,
        channels=flt.channels,
        types=flt.types,
        offset=(flt.page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    has_more = len(rows) > PAGE_SIZE
    return {
        "customer": customer,
        "filter": flt,
        "items": timeline_items(rows[:PAGE_SIZE]),
        "has_more": has_more,
        "more_query": flt.query(page=flt.page + 1).urlencode() if has_more else "",
        "need_choices": Need.choices,
        "sentiment_choices": Sentiment.choices,
    }


def _filter_parse(request: HttpRequest, today: dt.date) -> TimelineFilter:
    """The timeline filter, written back in the calendar the viewer types dates in."""
    calendar = input_calendar(get_language() or "en")
    return timeline_filter_parse(request.GET, today=today, calendar=calendar)


@staff_required()
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get(customer_id=customer_id)
    if customer.pk != customer_id:  # merged: the old link leads to the survivor
        url = reverse("web:customer_detail", args=[customer.pk])
        return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    today = timezone.localdate()
    flt = _filter_parse(request, today)
    orders = orders_of_customer(customer_id=customer.pk, limit=ORDERS_SHOWN)
    context = {
        "customer": customer,
        "identities": identities_of(customer=customer),
        "consents": consents_current(customer=customer),
        "dates": personal_dates_upcoming(customer=customer, today=today),
        "today": today,
        "orders": orders,
        "open_cases": open_cases_of_customer(
            cases=cases_visible_to(user=request.user), customer_id=customer.pk
        ),
        "channel_counts": sorted(
            customer_channel_counts(customer_id=customer.pk).items(), key=lambda kv: -kv[1]
        ),
        "outreach": customer_outreach(customer_id=customer.pk, limit=20),
        **_timeline_context(request, customer, flt),
    }
    return render(request, "web/customer_detail.html", context)


@staff_required()
@require_GET
def customer_timeline(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The timeline panel (filter + first page) or, for page > 1, just the next items."""
    customer = customer_get(customer_id=customer_id)
    flt = _filter_parse(request, timezone.localdate())
    context = _timeline_context(request, customer, flt)
    if flt.page > 1:
        return render(request, "web/_timeline_items.html", context)
    response = render(request, "web/_timeline.html", context)
    if _is_htmx(request):
        query = flt.query().urlencode()
        url = reverse("web:customer_detail", args=[customer.pk])
        response["HX-Push-Url"] = f"{url}?{query}" if query else url
    return response


def _correction_parse(post: Any) -> tuple[str | None, str | None, str]:
    """(need, sentiment, error): an empty choice means "leave as it is"."""
    need = post.get("need", "").strip() or None
    sentiment = post.get("sentiment", "").strip() or None
    if need is None and sentiment is None:
        return need, sentiment, _("Choose a need or a sentiment.")
    if need is not None and need not in Need.values:
        return need, sentiment, _("“%(value)s” is not a need.") % {"value": need}
    if sentiment is not None and sentiment not in Sentiment.values:
        return need, sentiment, _("“%(value)s” is not a sentiment.") % {"value": sentiment}
    return need, sentiment, ""


@staff_required(scope=Scope.WRITE)
@require_POST
def analysis_correct(request: HttpRequest, customer_id: int, interaction_id: int) -> HttpResponse:
    """An agent corrects the need and/or sentiment the language pipeline gave a message.

    htmx gets the item back (200, or 400 with the reason); a plain POST is redirected back.
    """
    customer = customer_get(customer_id=customer_id)
    rows = list(timeline_select(customer_id=customer.pk).filter(pk=interaction_id))
    if not rows:
        raise Http404("no such interaction for this customer")
    need, sentiment, error = _correction_parse(request.POST)
    if not error and timeline_items(rows)[0]["analysis_obj"] is None:
        error = _("This message has not been analysed yet.")
    if not error:
        from khoshnud.language.services import analysis_correct as correct

        try:
            correct(
                interaction_id=interaction_id, user=request.user, need=need, sentiment=sentiment
            )
        except ValueError as exc:  # the service's own checks
            error = str(exc)
    if not _is_htmx(request):
        if error:
            context = {"customer": customer, "error": error}
            return render(request, "web/correction_error.html", context, status=400)
        url = reverse("web:customer_detail", args=[customer.pk])
        return redirect(f"{url}#interaction-{interaction_id}")
    context = {
        "customer": customer,
        "item": timeline_items(rows)[0],  # read again: shows the correction just stored
        "error": error,
        "saved": not error,
        "need_choices": Need.choices,
        "sentiment_choices": Sentiment.choices,
    }
    return render(request, "web/_timeline_item.html", context, status=400 if error else 200)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the product's error page in the viewer's language, with a way back.

    Rendered without the request's context processors, so it reads neither the session nor the
    user: it must work when the database is what failed. Only a same-site path is offered for
    "Try again" (a GET to the page that failed).
    """
    path = request.path if request.method == "GET" and not request.path.startswith("//") else ""
    html: str
    try:
        html = render_to_string("500.html", {"path": path})
    except Exception:  # the page of last resort must not fail in turn
        html = "<!doctype html><title>500</title><h1>Server error</h1><a href='/'>Khoshnud</a>"
    return HttpResponseServerError(html)
