"""CSV import of customers, products, orders and interactions: all rows or none.

Every row is validated first; any error (reported with its line number) stores nothing.
Valid files are stored in one transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import transaction

from khoshnud.commerce.models import Product
from khoshnud.commerce.services import OrderInputError, clean_order_lines, order_create
from khoshnud.customers.models import Customer
from khoshnud.customers.resolution import customer_find_or_create
from khoshnud.customers.services import (
    CustomerInputError,
    clean_identities,
    clean_personal_dates,
    clean_profile,
    customers_find_by_identities,
)
from khoshnud.inputs import clean_int, clean_money, clean_str
from khoshnud.interactions.services import events_ingest
from khoshnud.interactions.services.ingest import EventError, clean_event, parse_aware_datetime
from khoshnud.language.services import backlog_is_large, interactions_classify

IDENTITY_COLUMNS = ("email", "phone", "telegram", "instagram", "whatsapp", "wechat", "external")
REQUIRED = {
    "customers": {"first_name"},
    "products": {"sku", "name", "category", "price", "currency"},
    "orders": {"number", "placed_at", "currency", "sku", "quantity", "unit_price"},
    "interactions": {"source", "external_id", "channel", "occurred_at"},
}
KINDS = tuple(REQUIRED)


class ImportError_(ValueError):
    """The file cannot be imported; ``errors`` lists (line, message)."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s); first: line {errors[0][0]}: {errors[0][1]}")


@dataclass
class ImportReport:
    kind: str
    rows: int
    created: int = 0
    duplicates: int = 0
    classified_fast: int = 0  # messages the importer classified with the fast language path
    notes: list[str] = field(default_factory=list)


def read_rows(stream: TextIO, kind: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; raises ImportError_ on a missing column or an unknown kind."""
    if kind not in REQUIRED:
        raise ImportError_([(0, f"unknown kind {kind!r}; use one of {list(KINDS)}")])
    reader = csv.DictReader(stream)
    header = {h.strip() for h in (reader.fieldnames or []) if h}
    missing = sorted(REQUIRED[kind] - header)
    if missing:
        raise ImportError_([(1, f"missing column(s): {', '.join(missing)}")])
    if kind in ("customers", "orders") and not header & {*IDENTITY_COLUMNS, "customer_id"}:
        raise ImportError_([(1, f"needs an identity column: one of {IDENTITY_COLUMNS}")])
    rows = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
    return rows


def _identities(row: dict[str, str]) -> dict[str, str]:
    return {k: row[k] for k in IDENTITY_COLUMNS if row.get(k)}


def _customer_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: row[k]
        for k in ("first_name", "last_name", "locale", "calendar", "time_zone", "tier")
        if row.get(k)
    }
    data["identities"] = _identities(row)
    dates = []
    for kind in ("birthday", "wedding_anniversary"):
        if row.get(kind):
            calendar = row.get(f"{kind}_calendar") or row.get("calendar") or "gregorian"
            dates.append({"kind": kind, "calendar": calendar, "date": row[kind]})
    data["personal_dates"] = dates
    return data


def _check_customers(rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        data = _customer_data(row)
        try:
            clean_profile(data)
            pairs = clean_identities(data["identities"])
            clean_personal_dates(data["personal_dates"])
        except CustomerInputError as exc:
            errors.append((line, str(exc)))
            continue
        if not pairs:
            errors.append((line, f"needs one of {IDENTITY_COLUMNS}"))
        for pair in pairs:
            if pair in seen:
                errors.append((line, f"{pair[0]} {pair[1]} repeats line {seen[pair]}"))
            seen[pair] = line
    return errors


def _positive_int(value: str, name: str) -> int:
    return clean_int(value or "0", field=name, minimum=0)


def _product(row: dict[str, str]) -> dict[str, Any]:
    currency = row["currency"].upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"currency {row['currency']!r} is not an ISO 4217 code")
    return {
        "sku": clean_str(row["sku"], field="sku", max_length=64),
        "name": clean_str(row["name"], field="name", max_length=200),
        "category": clean_str(row["category"], field="category", max_length=100),
        "price": clean_money(row["price"], field="price"),
        "currency": currency,
        "support_days": _positive_int(row.get("support_days", "0"), "support_days"),
        "tags": [t.strip() for t in row.get("tags", "").split("|") if t.strip()],
    }


def _event(row: dict[str, str]) -> dict[str, Any]:
    customer: dict[str, Any] = {**_identities(row)}
    for key in ("first_name", "last_name", "locale"):
        if row.get(key):
            customer[key] = row[key]
    if row.get("customer_id"):
        customer["id"] = _positive_int(row["customer_id"], "customer_id")
    return {
        k: v
        for k, v in {
            "source": row["source"],
            "external_id": row["external_id"],
            "channel": row["channel"],
            "direction": row.get("direction") or "inbound",
            "type": row.get("type") or "message",
            "stage": row.get("stage", ""),
            "occurred_at": row["occurred_at"],
            "text": row.get("text", ""),
            "customer": customer,
            "staff": row.get("staff") or None,
        }.items()
        if v is not None
    }


def _progress(items: list[Any], show: bool, desc: str) -> Iterable[Any]:
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="row")


def import_csv(
    stream: TextIO, kind: str, *, progress: bool = False, on_check: Callable[[], None] | None = None
) -> ImportReport:
    """Validate the whole file, then store it in one transaction; raises ImportError_ otherwise."""
    rows = read_rows(stream, kind)
    errors: list[tuple[int, str]] = []
    if kind == "customers":
        errors = _check_customers(rows)
    elif kind == "products":
        for line, row in rows:
            try:
                _product(row)
            except ValueError as exc:
                errors.append((line, str(exc)))
    elif kind == "orders":
        errors = _check_orders(rows)
    else:
        for line, row in rows:
            try:
                clean_event(0, _event(row))
            except (EventError, ValueError) as exc:
                errors.append((line, str(exc)))
    if errors:
        raise ImportError_(errors)
    if on_check:
        on_check()
    report = ImportReport(kind=kind, rows=len(rows))
    try:
        with transaction.atomic():
            _store(kind, rows, report, progress)
    except CustomerInputError as exc:
        raise ImportError_([(0, str(exc))]) from None
    return report


def _store(
    kind: str, rows: list[tuple[int, dict[str, str]]], report: ImportReport, progress: bool
) -> None:
    if kind == "customers":
        for line, row in _progress(rows, progress, "customers"):
            try:
                # A customer already known by one of its identities is kept as it is.
                _pk, created = customer_find_or_create(data=_customer_data(row))
            except CustomerInputError as exc:
                raise ImportError_([(line, str(exc))]) from None
            report.created += int(created)
            report.duplicates += int(not created)
    elif kind == "products":
        for _line, row in _progress(rows, progress, "products"):
            values = _product(row)
            _obj, created = Product.objects.update_or_create(sku=values.pop("sku"), defaults=values)
            report.created += int(created)
            report.duplicates += int(not created)
    elif kind == "orders":
        _store_orders(rows, report, progress)
    else:
        # More messages than the default language path clears in a few minutes (waiting ones
        # included): classify them here with the fast path; the quiet-time re-analysis
        # upgrades them later. Otherwise the worker classifies them as they come.
        incoming = sum(
            1
            for _line, row in rows
            if row.get("text") and row.get("direction") in ("", None, "inbound")
        )
        fast = backlog_is_large(incoming=incoming)
        batch: list[tuple[int, dict[str, Any]]] = []
        for item in _progress(rows, progress, "interactions"):
            batch.append(item)
            if len(batch) == 1000:
                _flush_events(batch, report, fast)
                batch = []
        if batch:
            _flush_events(batch, report, fast)
        if fast:
            report.notes.append(
                f"{report.classified_fast} message(s) classified with the fast language path "
                "(large backlog); re-analysed with the default path when the queue is quiet"
            )


def _flush_events(
    batch: list[tuple[int, dict[str, Any]]], report: ImportReport, fast: bool = False
) -> None:
    results = events_ingest(events=[_event(row) for _line, row in batch])
    rejected = [(batch[r.index][0], r.error or "") for r in results if r.status == "rejected"]
    if rejected:
        raise ImportError_(rejected)  # rolls back the whole file
    report.created += sum(r.status == "created" for r in results)
    report.duplicates += sum(r.status == "duplicate" for r in results)
    if fast:
        created = [r.id for r in results if r.status == "created" and r.id is not None]
        report.classified_fast += interactions_classify(interaction_ids=created, fast=True)


def _order_customer(row: dict[str, str]) -> Customer | None:
    if row.get("customer_id"):
        return Customer.objects.filter(pk=_positive_int(row["customer_id"], "customer_id")).first()
    pairs = clean_identities(_identities(row))
    found = customers_find_by_identities(pairs)
    return Customer.objects.filter(pk=next(iter(found.values()))).first() if found else None


def _check_orders(rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, str]]:
    """Each row's time and customer; each order's lines by the rule the API uses
    (commerce.services.clean_order_lines: money, quantity, one currency per order)."""
    errors: list[tuple[int, str]] = []
    by_number: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in rows:
        try:
            parse_aware_datetime(row["placed_at"], "placed_at")
            if row.get("customer_id") and _order_customer(row) is None:
                raise ValueError(f"unknown customer id {row['customer_id']}")
            clean_identities(_identities(row))
        except (ValueError, EventError, CustomerInputError) as exc:
            errors.append((line, str(exc)))
            continue
        by_number.setdefault(row["number"], []).append((line, row))
    for order_rows in by_number.values():
        currency = order_rows[0][1]["currency"].strip().upper()
        for line, row in order_rows:
            try:
                clean_order_lines([_order_line(row)], currency=currency)
            except OrderInputError as exc:
                errors.append((line, str(exc).replace("lines[0].", "").replace("lines[0]: ", "")))
    return sorted(errors)


def _order_line(row: dict[str, str]) -> dict[str, str]:
    return {"sku": row["sku"], "quantity": row["quantity"], "unit_price": row["unit_price"]}


def _store_orders(
    rows: list[tuple[int, dict[str, str]]], report: ImportReport, progress: bool
) -> None:
    """One order per number (its rows are its lines), through commerce.services.order_create."""
    by_number: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in rows:
        by_number.setdefault(row["number"], []).append((line, row))
    for number, order_rows in _progress(list(by_number.items()), progress, "orders"):
        line, first = order_rows[0]
        customer: dict[str, Any] = {**_identities(first)}
        if first.get("customer_id"):
            customer = {"id": _positive_int(first["customer_id"], "customer_id")}
        try:
            _order, created = order_create(
                customer=customer,
                number=number,
                placed_at=parse_aware_datetime(first["placed_at"], "placed_at"),
                currency=first["currency"],
                channel=first.get("channel") or "web",
                lines=[_order_line(r) for _line, r in order_rows],
            )
        except OrderInputError as exc:
            raise ImportError_([(line, str(exc))]) from None
        report.created += int(created)
        report.duplicates += int(not created)


__all__ = ["KINDS", "ImportError_", "ImportReport", "import_csv"]
