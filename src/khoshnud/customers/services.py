"""Writes for customers: create, update, identities, personal dates, consents, merge.

Every function is transactional and writes its audit row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from khoshnud.accounts.services import audit_log
from khoshnud.calendars import (
    Calendar,
    CalendarDateError,
    parse_calendar_date,
    validate_calendar_date,
)
from khoshnud.customers.identities import IdentityError, normalize_identity
from khoshnud.customers.models import (
    Consent,
    ConsentChannel,
    Customer,
    DateKind,
    Identity,
    IdentityKind,
    Locale,
    PersonalDate,
    Tier,
)
from khoshnud.customers.references import customer_references_merge
from khoshnud.customers.search import fold
from khoshnud.customers.signals import announce_dates_changed
from khoshnud.db import select_in
from khoshnud.inputs import (
    InputError,
    clean_aware_datetime,
    clean_json,
    clean_str,
    storable_text,
)

Actor = AbstractBaseUser | AnonymousUser | None

PROFILE_FIELDS = ("first_name", "last_name", "locale", "calendar", "time_zone", "tier")
# The calendar a customer most likely lives by, when none is given.
DEFAULT_CALENDAR = {Locale.FA: Calendar.JALALI, Locale.ZH: Calendar.GREGORIAN}
DEFAULT_TIME_ZONE = {Locale.FA: "Asia/Tehran", Locale.ZH: "Asia/Shanghai"}


_CHOICES = {"locale": Locale.values, "calendar": Calendar.values, "tier": Tier.values}


class CustomerInputError(ValueError):
    """Invalid customer data; ``errors`` maps field → message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def clean_profile(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate profile fields with the shared input rules; returns the cleaned subset present.

    Names are strings of at most 100 characters (an object is refused, not stored as its
    text); attributes are a JSON object both databases keep (inputs.clean_json).
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in ("first_name", "last_name"):
        if name in data and data[name] is not None:
            try:
                out[name] = clean_str(data[name], field=name, max_length=100, required=False)
            except InputError as exc:
                errors[name] = exc.message
    for name, allowed in _CHOICES.items():
        if name in data and data[name] is not None:
            value = data[name]
            if not isinstance(value, str):
                errors[name] = f"must be one of {allowed}"
                continue
            value = value.strip().lower()
            if name == "locale" and value in {"zh", "zh_hans", "zh-cn"}:
                value = Locale.ZH
            if value not in allowed:
                errors[name] = f"{storable_text(data[name])[:40]!r} is not one of {allowed}"
            out[name] = value
    if data.get("time_zone"):
        try:
            zone = clean_str(data["time_zone"], field="time_zone", max_length=64)
            zoneinfo.ZoneInfo(zone)
            out["time_zone"] = zone
        except InputError as exc:
            errors["time_zone"] = exc.message
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = f"unknown time zone {storable_text(data['time_zone'])[:64]!r}"
    if "attributes" in data and data["attributes"] is not None:
        if not isinstance(data["attributes"], dict):
            errors["attributes"] = "must be an object"
        else:
            try:
                out["attributes"] = clean_json(data["attributes"], field="attributes")
            except InputError as exc:
                errors["attributes"] = exc.message
    if not partial:
        locale = out.setdefault("locale", Locale.EN)
        out.setdefault("calendar", DEFAULT_CALENDAR.get(locale, Calendar.GREGORIAN))
        out.setdefault("time_zone", DEFAULT_TIME_ZONE.get(locale, "UTC"))
    if errors:
        raise CustomerInputError(errors)
    return out


def clean_identities(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """{kind: value or [values]} → normalised (kind, value) pairs; an unknown kind is refused."""
    if not isinstance(raw, Mapping):
        raise CustomerInputError({"identities": "must be an object {kind: value}"})
    pairs: list[tuple[str, str]] = []
    errors: dict[str, str] = {}
    unknown = [k for k in raw if k not in IdentityKind.values]
    if unknown:
        shown = [storable_text(str(k))[:40] for k in unknown]
        errors["identities"] = f"unknown kind(s) {shown}; use {IdentityKind.values}"
    for kind in IdentityKind.values:
        if raw.get(kind) in (None, ""):
            continue
        values = raw[kind] if isinstance(raw[kind], list) else [raw[kind]]
        for value in values:
            try:
                pairs.append((kind, normalize_identity(kind, value)))
            except IdentityError as exc:
                errors[kind] = str(exc)
    if errors:
        raise CustomerInputError(errors)
    return pairs


def clean_personal_dates(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(raw):
        kind = item.get("kind", DateKind.BIRTHDAY)
        if not isinstance(kind, str) or kind not in DateKind.values:
            raise CustomerInputError({f"personal_dates[{i}].kind": f"use one of {DateKind.values}"})
        calendar = item.get("calendar", Calendar.GREGORIAN)
        if not isinstance(calendar, str) or calendar not in Calendar.values:
            raise CustomerInputError(
                {f"personal_dates[{i}].calendar": f"use one of {Calendar.values}"}
            )
        leap = bool(item.get("leap_month", False))
        try:
            label = clean_str(item.get("label"), field="label", max_length=100, required=False)
            text = clean_str(item.get("date"), field="date", max_length=20)
            value = parse_calendar_date(text, calendar)
            if leap:
                if calendar != Calendar.CHINESE:
                    raise CalendarDateError("leap_month applies to the Chinese lunar calendar")
                validate_calendar_date(replace(value, leap_month=True))
        except InputError as exc:
            raise CustomerInputError({f"personal_dates[{i}].{exc.field}": exc.message}) from None
        except CalendarDateError as exc:
            raise CustomerInputError({f"personal_dates[{i}].date": str(exc)}) from None
        out.append(
            {
                "kind": kind,
                "label": label,
                "calendar": calendar,
                "year": value.year,
                "month": value.month,
                "day": value.day,
                "leap_month": leap,
            }
        )
    return out


def search_text_for(customer: Customer, identities: Iterable[str]) -> str:
    parts = [customer.first_name, customer.last_name, customer.full_name, *identities]
    return fold(" ".join(p for p in parts if p))


def customers_search_text_refresh(*, customer_ids: Iterable[int]) -> None:
    """Recompute the search text of customers whose identities changed (ingestion adds some)."""
    ids = set(customer_ids)
    if not ids:
        return
    values: dict[int, list[str]] = {}
    for cid, value in Identity.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "value"
    ):
        values.setdefault(cid, []).append(value)
    for customer in Customer.objects.filter(pk__in=ids):
        text = search_text_for(customer, values.get(customer.pk, []))
        if text != customer.search_text:
            Customer.objects.filter(pk=customer.pk).update(search_text=text)


def _refresh_search_text(customer: Customer) -> None:
    values = customer.identities.values_list("value", flat=True)
    customer.search_text = search_text_for(customer, values)
    Customer.objects.filter(pk=customer.pk).update(search_text=customer.search_text)


def _attach_identities(customer: Customer, pairs: Iterable[tuple[str, str]]) -> None:
    for kind, value in pairs:
        owner = Identity.objects.filter(kind=kind, value=value).values_list(
            "customer_id", flat=True
        )
        existing = owner.first()
        if existing is None:
            try:
                with transaction.atomic():
                    Identity.objects.create(customer=customer, kind=kind, value=value)
            except IntegrityError:
                existing = owner.first()
        if existing is not None and existing != customer.pk:
            raise CustomerInputError({kind: f"{value} already belongs to customer {existing}"})


def _add_details(
    customer: Customer,
    pairs: list[tuple[str, str]],
    dates: list[dict[str, Any]],
    consents: Iterable[Mapping[str, Any]],
    actor: Actor,
) -> None:
    _attach_identities(customer, pairs)
    PersonalDate.objects.bulk_create([PersonalDate(customer=customer, **item) for item in dates])
    for consent in consents:
        consent_record(customer=customer, actor=actor, **consent)
    _refresh_search_text(customer)


@transaction.atomic
def customer_create(*, data: Mapping[str, Any], actor: Actor = None) -> Customer:
    """Create a customer with identities, personal dates and consents from validated input.

    Raises CustomerInputError (nothing is stored) when any part is invalid or an identity is taken.
    """
    profile = clean_profile(data)
    pairs = clean_identities(data.get("identities") or {})
    dates = clean_personal_dates(data.get("personal_dates") or [])
    if not pairs and not profile.get("first_name") and not profile.get("last_name"):
        raise CustomerInputError(
            {"identities": f"a new customer needs a name or an identity ({IdentityKind.values})"}
        )
    customer = Customer.objects.create(**profile)
    _add_details(customer, pairs, dates, data.get("consents") or [], actor)
    announce_dates_changed(customer_ids=[customer.pk])  # its occasions (customer since)
    audit_log(
        actor=actor,
        action="customer.create",
        object_type="customer",
        object_id=customer.pk,
        customer_id=customer.pk,
    )
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, data: Mapping[str, Any], actor: Actor = None
) -> Customer:
    """Change profile fields; add identities, personal dates and consent decisions.

    All or nothing (one transaction); audited with the names of the changed fields.
    """
    profile = clean_profile(data, partial=True)
    pairs = clean_identities(data.get("identities") or {})
    dates = clean_personal_dates(data.get("personal_dates") or [])
    changed = {k: v for k, v in profile.items() if getattr(customer, k) != v}
    for key, value in changed.items():
        setattr(customer, key, value)
    if changed:
        customer.save()
    _add_details(customer, pairs, dates, data.get("consents") or [], actor)
    if dates:
        announce_dates_changed(customer_ids=[customer.pk])
    audit_log(
        actor=actor,
        action="customer.update",
        object_type="customer",
        object_id=customer.pk,
        customer_id=customer.pk,
        data={"changed": sorted(changed), "identities": len(pairs), "personal_dates": len(dates)},
    )
    return customer


def consent_record(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    method: str,
    recorded_at: dt.datetime | str | None = None,
    actor: Actor = None,
) -> Consent:
    """Record a consent decision (history is kept; the newest decision is in force)."""
    if not isinstance(channel, str) or channel not in ConsentChannel.values:
        raise CustomerInputError({"consent.channel": f"use one of {ConsentChannel.values}"})
    try:
        method = clean_str(method, field="method", max_length=100)
        when = (
            timezone.now()
            if recorded_at is None
            else clean_aware_datetime(recorded_at, field="recorded_at")
        )
    except InputError as exc:
        message = "say how the consent was given" if exc.field == "method" and not method else ""
        raise CustomerInputError({f"consent.{exc.field}": message or exc.message}) from None
    consent = Consent.objects.create(
        customer=customer,
        channel=channel,
        granted=bool(granted),
        method=method,
        recorded_at=when,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )  # type: ignore[misc]
    audit_log(
        actor=actor,
        action="consent.record",
        object_type="customer",
        object_id=customer.pk,
        customer_id=customer.pk,
        data={"channel": channel, "granted": bool(granted)},
    )
    return consent


def customers_find_by_identities(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(kind, value) → customer id for the pairs that exist; one query per kind and 500 values.

    Plain SQL on purpose: this runs for every ingested batch.
    """
    by_kind: dict[str, set[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, set()).add(value)
    found: dict[tuple[str, str], int] = {}
    for kind, value_set in by_kind.items():
        values = list(value_set)
        for start in range(0, len(values), 500):
            rows = select_in(
                table=Identity._meta.db_table,
                columns="t.value, t.customer_id",
                where="t.kind = %s",
                params=[kind],
                key="value",
                values=values[start : start + 500],
            )
            for value, customer_id in rows:
                found[(kind, value)] = customer_id
    return found


@transaction.atomic
def customer_merge(*, target: Customer, source: Customer, actor: Actor = None) -> Customer:
    """Move everything that refers to ``source`` to ``target``: identities, dates, consents and
    whatever other apps registered in customers.references (history, orders, analyses, ...).

    ``source`` stays as a tombstone pointing at ``target`` (merged_into), so old links resolve.
    Audited; raises ValueError when merging a customer into itself or an already-merged one.
    """
    if target.pk == source.pk:
        raise ValueError("cannot merge a customer into itself")
    if source.merged_into_id or target.merged_into_id:
        raise ValueError("one of these customers was already merged into another")
    # Lock both rows in a stable order so that two concurrent merges cannot interleave.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update().filter(pk__in=sorted([target.pk, source.pk]))
    }
    target, source = locked[target.pk], locked[source.pk]
    # Every app re-points its own rows (customers.references): this app imports none of them.
    moved = customer_references_merge(source_id=source.pk, target_id=target.pk)
    announce_dates_changed(customer_ids=[target.pk, source.pk])
    for field in PROFILE_FIELDS[:2]:
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
    target.attributes = {**source.attributes, **target.attributes}
    tier_order: list[str] = [Tier.STANDARD, Tier.LOYAL, Tier.KEY]
    target.tier = max(target.tier, source.tier, key=tier_order.index)
    target.save()
    source.merged_into = target
    source.search_text = ""
    source.save(update_fields=["merged_into", "search_text", "updated_at"])
    _refresh_search_text(target)
    audit_log(
        actor=actor,
        action="customer.merge",
        object_type="customer",
        object_id=target.pk,
        customer_id=target.pk,
        data={"merged": source.pk, "moved": moved},
    )
    return target
