"""Linking two customers by hand (merge) from the customer 360 and the case page: the agent
names the other customer (its number, or a name, email, phone typed in any digit system),
sees both side by side and confirms; ``customers.services.customer_merge`` moves everything
to the customer the agent came from and writes the audit entry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Scope
from khoshnud.customers.models import Customer
from khoshnud.customers.selectors import (
    customer_channel_counts,
    customer_get,
    customer_search,
    identities_of,
)
from khoshnud.customers.services import customer_merge

CANDIDATES = 10


def _side(customer: Customer) -> dict[str, Any]:
    return {
        "customer": customer,
        "identities": list(identities_of(customer=customer)),
        "channels": sorted(customer_channel_counts(customer_id=customer.pk).items()),
    }


def _candidates(query: str, exclude: int) -> list[Customer]:
    text = query.strip().lstrip("#")
    found: list[Customer] = []
    if text.isdigit():
        other = Customer.objects.filter(pk=int(text), merged_into__isnull=True).first()
        if other is not None and other.pk != exclude:
            found.append(other)
    if text:
        found += [c for c in customer_search(query=text)[: CANDIDATES + 1]
                  if c.pk != exclude and c not in found]  # fmt: skip
    return found[:CANDIDATES]


def _render(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    if "source" in context:
        context["sides"] = [context["target"], context["source"]]
    return render(request, "web/customer_merge.html", context, status=status)


@staff_required(scope=Scope.WRITE)
@require_http_methods(["GET", "POST"])
def customer_merge_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: find the other customer and show both for confirmation. POST (source_id and the
    confirmation ticked): merge the other one into this one, then back to its 360."""
    target = customer_get(customer_id=customer_id)
    if target.pk != customer_id:
        return redirect(reverse("web:customer_merge", args=[target.pk]))
    query = (request.GET.get("q") or "").strip()[:200]
    context: dict[str, Any] = {"target": _side(target), "query": query}
    if request.method == "POST":
        raw = request.POST.get("source_id", "")
        source = (
            Customer.objects.filter(pk=int(raw)).first()
            if raw.isdigit() and len(raw) < 19
            else None
        )
        if source is None:
            context["error"] = _("Choose the customer to link.")
            return _render(request, context, 400)
        context["source"] = _side(source)
        if request.POST.get("confirm") != "1":
            context["error"] = _("Tick the box to confirm that they are the same person.")
            return _render(request, context, 400)
        try:
            customer_merge(target=target, source=source, actor=request.user)
        except ValueError:
            context["error"] = _(
                "These two cannot be linked: it is the same customer, or one was already merged."
            )
            return _render(request, context, 400)
        messages.success(
            request,
            _("Customer #%(source)s is now part of this customer: their messages, cases and "
              "identities are here.") % {"source": source.pk},
        )  # fmt: skip
        return redirect(reverse("web:customer_detail", args=[target.pk]))
    chosen = request.GET.get("source_id", "")
    if chosen.isdigit() and len(chosen) < 19:
        source = Customer.objects.filter(pk=int(chosen), merged_into__isnull=True).first()
        if source is not None and source.pk != target.pk:
            context["source"] = _side(source)
    if "source" not in context and query:
        context["candidates"] = _candidates(query, target.pk)
    return _render(request, context)
