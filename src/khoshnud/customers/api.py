"""API for customers: search, read (360), create, update, merge, consents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Role, Scope
from khoshnud.commerce.selectors import orders_of_customer
from khoshnud.customers import selectors, services
from khoshnud.customers.models import Customer
from khoshnud.inputs import Page, RowId

router = Router(tags=["customers"])


class IdentityOut(Schema):
    kind: str
    value: str


class PersonalDateOut(Schema):
    kind: str
    label: str
    calendar: str
    date: str = Field(..., description="YYYY-MM-DD or ----MM-DD in its own calendar")
    next_occurrence: dt.date


class ConsentOut(Schema):
    channel: str
    granted: bool
    method: str
    recorded_at: dt.datetime


class CustomerOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    locale: str
    calendar: str
    time_zone: str
    tier: str
    attributes: dict[str, Any]
    identities: list[IdentityOut]
    created_at: dt.datetime


class Customer360Out(CustomerOut):
    personal_dates: list[PersonalDateOut]
    consents: list[ConsentOut]
    interactions_by_channel: dict[str, int]
    orders: list[dict[str, Any]]


class CustomerPage(Schema):
    count: int
    page: int
    items: list[CustomerOut]


class PersonalDateIn(Schema):
    kind: str = "birthday"
    calendar: str = "gregorian"
    date: str = Field(..., examples=["1403-12-30"])
    label: str = ""


class ConsentIn(Schema):
    channel: str
    granted: bool
    method: str = Field(..., examples=["web form checkbox"])
    recorded_at: str | None = None


class CustomerIn(Schema):
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = Field(None, examples=["fa"])
    calendar: str | None = Field(None, examples=["jalali"])
    time_zone: str | None = Field(None, examples=["Asia/Tehran"])
    tier: str | None = None
    attributes: dict[str, Any] | None = None
    identities: dict[str, Any] | None = Field(
        None, examples=[{"email": "sara@example.com", "phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹"}]
    )
    personal_dates: list[PersonalDateIn] | None = None
    consents: list[ConsentIn] | None = None


class MergeIn(Schema):
    source_id: RowId = Field(..., description="the duplicate customer, merged into this one")


def _out(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "full_name": customer.full_name,
        "locale": customer.locale,
        "calendar": customer.calendar,
        "time_zone": customer.time_zone,
        "tier": customer.tier,
        "attributes": customer.attributes,
        "identities": [{"kind": i.kind, "value": i.value} for i in customer.identities.all()],
        "created_at": customer.created_at,
    }


def _out_360(customer: Customer) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        **_out(customer),
        "personal_dates": [
            {
                "kind": u.date.kind,
                "label": u.date.label,
                "calendar": u.date.calendar,
                "date": str(u.date.as_calendar_date()),
                "next_occurrence": u.next_day,
            }
            for u in selectors.personal_dates_upcoming(customer=customer, today=today)
        ],
        "consents": [
            {
                "channel": c.channel,
                "granted": c.granted,
                "method": c.method,
                "recorded_at": c.recorded_at,
            }
            for c in selectors.consents_current(customer=customer)
        ],
        "interactions_by_channel": selectors.customer_channel_counts(customer_id=customer.pk),
        "orders": [
            {
                "number": o.number,
                "placed_at": o.placed_at,
                "total": str(o.total),
                "currency": o.currency,
            }
            for o in orders_of_customer(customer_id=customer.pk, limit=50)
        ],
    }


def _input_error(exc: services.CustomerInputError) -> HttpError:
    return HttpError(422, "; ".join(f"{k}: {v}" for k, v in exc.errors.items()))


@router.get("", response=CustomerPage)
def list_customers(request: HttpRequest, q: str = "", page: Page = 1, page_size: int = 25) -> dict:
    """Search by name, email or phone (any digit system: ۰۹۱۲…, +98 912…); newest first."""
    require(request, scope=Scope.READ)
    if page < 1 or not 1 <= page_size <= 200:
        raise HttpError(422, "page starts at 1; page_size is 1 to 200")
    qs = selectors.customer_search(query=q).prefetch_related("identities")
    offset = (page - 1) * page_size
    return {
        "count": qs.count(),
        "page": page,
        "items": [_out(c) for c in qs[offset : offset + page_size]],
    }


@router.post("", response={201: Customer360Out})
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[dict]:
    """Create a customer with identities, personal dates (in any calendar) and consents."""
    require(request, scope=Scope.WRITE)
    try:
        customer = services.customer_create(
            data=payload.model_dump(exclude_none=True), actor=request.user
        )
    except services.CustomerInputError as exc:
        raise _input_error(exc) from None
    return Status(201, _out_360(customer))


@router.get("/{customer_id}", response=Customer360Out)
def get_customer(request: HttpRequest, customer_id: RowId) -> dict:
    """The customer 360: profile, identities, personal dates, consents, counts, orders."""
    require(request, scope=Scope.READ)
    return _out_360(selectors.customer_get(customer_id=customer_id))


@router.patch("/{customer_id}", response=Customer360Out)
def update_customer(request: HttpRequest, customer_id: RowId, payload: CustomerIn) -> dict:
    """Change profile fields; identities and personal dates given are added."""
    require(request, scope=Scope.WRITE)
    customer = selectors.customer_get(customer_id=customer_id)
    try:
        customer = services.customer_update(
            customer=customer, data=payload.model_dump(exclude_none=True), actor=request.user
        )
    except services.CustomerInputError as exc:
        raise _input_error(exc) from None
    return _out_360(customer)


@router.post("/{customer_id}/merge", response=Customer360Out)
def merge_customers(request: HttpRequest, customer_id: RowId, payload: MergeIn) -> dict:
    """Merge `source_id` into this customer (identities, history, orders move). Manager role."""
    require(request, scope=Scope.WRITE, role=Role.MANAGER)
    target = selectors.customer_get(customer_id=customer_id)
    source = selectors.customer_get(customer_id=payload.source_id)
    try:
        merged = services.customer_merge(target=target, source=source, actor=request.user)
    except ValueError as exc:
        raise HttpError(422, str(exc)) from None
    return _out_360(merged)


class EraseIn(Schema):
    reason: str = Field(..., examples=["customer's privacy request of 2026-11-20"])


class EraseOut(Schema):
    customer_id: int
    erased_interactions: int


@router.post("/{customer_id}/erase", response=EraseOut)
def erase_customer_history(request: HttpRequest, customer_id: RowId, payload: EraseIn) -> dict:
    """Privacy erasure: blank the text and metadata of every interaction of the customer
    (rows, times and channels stay for the metrics). Admin role; audited with the reason."""
    from khoshnud.interactions.services import interaction_erase

    require(request, scope=Scope.WRITE, role=Role.ADMIN)
    customer = selectors.customer_get(customer_id=customer_id)
    try:
        count = interaction_erase(
            customer_id=customer.pk, reason=payload.reason, actor=request.user
        )
    except ValueError as exc:
        raise HttpError(422, str(exc)) from None
    return {"customer_id": customer.pk, "erased_interactions": count}
