"""Resolve or create customers by identity: the one place that does it, for every channel.

Ingestion, orders and CSV import give references ({"id": …} or channel identities plus a
profile for a new customer) and get customer ids back; none of them writes customer or
identity rows itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils import timezone

from khoshnud.customers.identities import IdentityError, normalize_identity
from khoshnud.customers.models import Customer, IdentityKind
from khoshnud.customers.services import (
    CustomerInputError,
    clean_profile,
    customers_find_by_identities,
    customers_search_text_refresh,
    search_text_for,
)
from khoshnud.db import WriteConflict, datetime_param, identities_insert, select_in

_CHUNK = 500


@dataclass
class CustomerReference:
    """Who an event, order or row is about: an id, or identities ((kind, value), normalised)
    with the profile to give the customer if none has any of them."""

    customer_id: int | None = None
    identities: Sequence[tuple[str, str]] = ()
    profile: Mapping[str, Any] = field(default_factory=dict)


class Resolved(NamedTuple):
    customer_id: int | None
    error: str | None = None


def customer_reference_from(raw: Mapping[str, Any]) -> CustomerReference:
    """{"id": 7} or {"email": …, "phone": …, "first_name": …} → a reference; raises
    CustomerInputError for an invalid id or identity, or when neither is given."""
    customer_id = raw.get("id")
    if customer_id is not None and (
        not isinstance(customer_id, int)
        or isinstance(customer_id, bool)
        or not 1 <= customer_id < 2**63
    ):
        raise CustomerInputError({"customer.id": "must be a positive integer"})
    pairs = []
    for kind in IdentityKind.values:
        value = raw.get(kind)
        if value is None or value == "":
            continue
        try:
            pairs.append((kind, normalize_identity(kind, value)))
        except IdentityError as exc:
            raise CustomerInputError({f"customer.{kind}": str(exc)}) from None
    if customer_id is None and not pairs:
        raise CustomerInputError({"customer": f"needs an id or one of {IdentityKind.values}"})
    return CustomerReference(customer_id=customer_id, identities=pairs, profile=raw)


def customers_resolve(*, references: Sequence[CustomerReference]) -> list[Resolved]:
    """The customer of each reference, in order; creates customers (and identities) unknown.

    - an id resolves to that customer (a merged one to the survivor); an unknown id is an error;
    - identities resolve to their owner (the first identity owned wins); identities of the
      reference not yet owned are added to that customer;
    - otherwise one new customer per person of the batch (references sharing an identity are
      one person), with the profile of the first reference and every identity of them all;
      an invalid profile is an error for that reference only.

    Run it inside the caller's transaction. Safe under concurrency: identities are inserted
    with ON CONFLICT DO NOTHING in key order; when a concurrent writer claimed one of a new
    customer's identities first, the references go to that writer's customer instead, and the
    customer made here is removed — no retry, no duplicate person. Queries: one per 500 ids and
    per identity kind to look up, then at most four writes.
    """
    results: list[Resolved | None] = [None] * len(references)
    known = _known_ids({r.customer_id for r in references if r.customer_id is not None})
    owner = customers_find_by_identities(p for r in references for p in r.identities)
    new_customers: list[Customer] = []
    claims: list[tuple[int | Customer, str, str]] = []  # identities to insert, and for whom
    pending: dict[tuple[str, str], Customer] = {}  # identity → customer created here
    created_for: dict[int, Customer] = {}  # reference index → customer created here
    for index, ref in enumerate(references):
        if ref.customer_id is not None:
            if ref.customer_id in known:
                results[index] = Resolved(known[ref.customer_id])
            else:
                results[index] = Resolved(None, f"unknown customer id {ref.customer_id}")
            continue
        match = None
        for pair in ref.identities:  # a loop, not next(generator): this runs per event
            match = owner.get(pair)
            if match is not None:
                break
        if match is not None:
            results[index] = Resolved(match)
            for pair in ref.identities:
                if pair not in owner and pair not in pending:
                    owner[pair] = match
                    claims.append((match, *pair))
            continue
        created = None
        for pair in ref.identities:
            created = pending.get(pair)
            if created is not None:
                break
        if created is None:
            try:
                created = Customer(**clean_profile(ref.profile))
            except CustomerInputError as exc:
                results[index] = Resolved(None, f"customer: {exc}")
                continue
            new_customers.append(created)
        for pair in ref.identities:
            if pair not in pending:
                pending[pair] = created
                claims.append((created, *pair))
        created_for[index] = created
    if new_customers:
        values_of: dict[int, list[str]] = {}
        for c, _kind, value in claims:
            if not isinstance(c, int):
                values_of.setdefault(id(c), []).append(value)
        for customer in new_customers:
            customer.search_text = search_text_for(customer, values_of.get(id(customer), []))
        Customer.objects.bulk_create(new_customers, batch_size=_CHUNK)
    replaced: dict[int, int] = {}  # customer created here → the one a concurrent writer made
    refresh: set[int] = set()
    if claims:
        now = datetime_param()(timezone.now())
        rows = [(c if isinstance(c, int) else c.pk, k, v, False, now) for c, k, v in claims]
        stored = identities_insert(rows)
        lost = [(c, k, v) for c, k, v in claims if (k, v) not in stored]
        if lost:
            replaced = _give_way(lost)
        refresh = {c for c, _k, _v in claims if isinstance(c, int)} | set(replaced.values())
    customers_search_text_refresh(customer_ids=sorted(refresh))
    for index, created in created_for.items():
        assert created.pk is not None
        results[index] = Resolved(replaced.get(created.pk, created.pk))
    return [r if r is not None else Resolved(None, "unresolved") for r in results]


def customer_resolve(*, reference: CustomerReference) -> int:
    """The customer of one reference (see customers_resolve); raises CustomerInputError."""
    [resolved] = customers_resolve(references=[reference])
    if resolved.customer_id is None:
        raise CustomerInputError({"customer": resolved.error or "cannot be resolved"})
    return resolved.customer_id


def _known_ids(ids: set[int]) -> dict[int, int]:
    """id → the id to use (a merged customer's history goes to the survivor)."""
    known: dict[int, int] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), _CHUNK):
        for pk, merged_into in select_in(
            table=Customer._meta.db_table,
            columns="t.id, t.merged_into_id",
            where="1 = 1",
            params=[],
            key="id",
            values=wanted[start : start + _CHUNK],
            key_type="bigint",
        ):
            known[pk] = merged_into or pk
    return known


def _give_way(lost: list[tuple[int | Customer, str, str]]) -> dict[int, int]:
    """Identities a concurrent writer claimed first (committed before our insert went on).

    A customer created here that lost an identity is the same person as that identity's owner:
    its other identities move there and it is removed. A known customer that lost one simply
    does not get it. Returns {removed customer id: owner id}.
    """
    from khoshnud.customers.models import Identity

    owners = customers_find_by_identities((k, v) for _c, k, v in lost)
    replaced: dict[int, int] = {}
    for c, kind, value in sorted(lost, key=lambda item: (item[1], item[2])):
        if isinstance(c, int) or c.pk in replaced:
            continue
        winner = owners.get((kind, value))
        if winner is None:  # claimed and gone again (a merge?): let the caller retry
            raise WriteConflict(f"identity {kind}:{value} changed owner during ingestion")
        assert c.pk is not None
        replaced[c.pk] = winner
    if replaced:
        for loser, winner in sorted(replaced.items()):
            Identity.objects.filter(customer_id=loser).update(customer_id=winner)
        Customer.objects.filter(pk__in=sorted(replaced)).delete()
    return replaced


def customer_find_or_create(*, data: Mapping[str, Any], actor: Any = None) -> tuple[int, bool]:
    """The customer owning any of ``data``'s identities, untouched (False), or a new one made
    by customer_create from all of ``data`` (True). Raises CustomerInputError."""
    from khoshnud.customers.services import clean_identities, customer_create

    pairs = clean_identities(data.get("identities") or {})
    found = customers_find_by_identities(pairs)
    for pair in pairs:  # the first identity given that is owned decides, as in ingestion
        if pair in found:
            return found[pair], False
    return customer_create(data=data, actor=actor).pk, True
