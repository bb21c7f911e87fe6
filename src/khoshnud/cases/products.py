"""The product a case is about (docs/metrics.md, "Product").

A person or the API sets it (``case_product_set``, ``case_open(product=…)``): that wins and is
never inferred again. Otherwise ``cases_products_infer`` fills it in afterwards, a few
thousand cases per set-based UPDATE: the product of the customer's most recent order line
placed before the case opened. The inbound-message pipeline writes no product and does no
look-up for one (each case it opens stays as cheap as before); the rollup refresh and
rebuild call the inference before they count (khoshnud.insights.rollups).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery

from khoshnud import events
from khoshnud.cases.models import Case, ProductSource
from khoshnud.cases.services import Actor, _desk_case, _event
from khoshnud.commerce.models import OrderLine, Product
from khoshnud.commerce.selectors import product_by_sku

# Cases per UPDATE: one statement of this size takes a few tens of milliseconds on either
# database, and holds its row locks no longer than that.
INFER_CHUNK = 5000


def case_product_set(*, case_id: object, sku: object, actor: Actor) -> Case:
    """Set the product the case is about by hand (an empty ``sku`` clears it): it wins over
    the inferred one for good. Transactional, with a ``case.product_changed`` history row
    (product names from → to); setting the product it has changes nothing. Refused
    (``InputError`` naming ``product``, nothing changed) for an unknown SKU or a closed case;
    the desk's access rule applies (``PermissionDenied``)."""
    product = product_by_sku(sku=sku, field="product")
    with transaction.atomic():
        user, case = _desk_case(actor=actor, case_id=case_id)
        new_id = product.pk if product is not None else None
        if case.product_id == new_id and case.product_source == ProductSource.SET:
            return case
        before = (
            Product.objects.filter(pk=case.product_id).values_list("name", flat=True).first()
            if case.product_id
            else None
        )
        case.product, case.product_source = product, ProductSource.SET
        case.save(update_fields=["product", "product_source", "updated_at"])
        _event(case, user, events.CASE_PRODUCT_CHANGED,
               {"product": {"from": before, "to": product.name if product else None}})  # fmt: skip
    return case


def latest_earlier_product() -> Subquery:
    """For the case of the outer query: the product of its customer's most recent order line
    placed before it opened (the latest order's first line); NULL when there is none. One
    index range scan of the customer's orders (customer, -placed_at)."""
    lines = OrderLine.objects.filter(
        order__customer_id=OuterRef("customer_id"), order__placed_at__lt=OuterRef("opened_at")
    ).order_by("-order__placed_at", "-order_id", "id")
    return Subquery(lines.values("product_id")[:1])


@dataclass
class ProductsInferred:
    last_id: int  # every case up to this id has been looked at
    looked: int = 0
    found: list[int] = field(default_factory=list)  # the cases that got a product


def cases_products_infer(*, after_id: int = 0, max_cases: int | None = None) -> ProductsInferred:
    """Infer the product of the cases above ``after_id`` not looked at yet (``product_source``
    NULL), ``INFER_CHUNK`` per set-based UPDATE (one transaction each), in id order, at most
    ``max_cases`` (about). Idempotent: a case is looked at once (``order`` or ``none``); one
    set by hand meanwhile is left alone (the UPDATE re-checks the NULL). Works the same on
    SQLite and PostgreSQL. ``last_id``: where the next call may start."""
    top = Case.objects.aggregate(m=Max("id"))["m"] or 0
    out = ProductsInferred(last_id=max(after_id, top))
    last = after_id
    while max_cases is None or out.looked < max_cases:
        ids = list(
            Case.objects.filter(pk__gt=last, pk__lte=top, product_source__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:INFER_CHUNK]
        )
        if not ids:
            return out
        with transaction.atomic():
            Case.objects.filter(pk__in=ids, product_source__isnull=True).update(
                product_id=latest_earlier_product(), product_source=ProductSource.ORDER
            )
            Case.objects.filter(
                pk__in=ids, product_source=ProductSource.ORDER, product__isnull=True
            ).update(product_source=ProductSource.NONE)
        out.found += Case.objects.filter(
            pk__in=ids, product_source=ProductSource.ORDER
        ).values_list("pk", flat=True)
        out.looked += len(ids)
        last = ids[-1]
        if len(ids) < INFER_CHUNK:
            return out
    out.last_id = last  # stopped at the bound: the next call goes on from here
    return out
