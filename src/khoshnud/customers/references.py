"""Who refers to a customer, and what a merge and a privacy erasure do to those rows.

Every app whose models hold a customer reference (a ForeignKey to Customer, or a plain
``customer_id`` column) registers each one here from its ``AppConfig.ready()``: how a merge
re-points its rows to the surviving customer, and what an erasure does to them. customer_merge
and interaction_erase run whatever is registered, so this app imports none of the apps above
it. tests/customers/test_references.py fails when a model with a customer reference is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

Merge = Callable[..., int]  # merge(source_id=…, target_id=…) -> rows moved
Erase = Callable[..., int]  # erase(customer_id=…) -> rows erased


@dataclass(frozen=True)
class CustomerReference:
    name: str  # in audit rows: {"moved": {name: rows}}
    model: type[models.Model]
    field: str  # the attribute holding the customer id ("customer_id")
    merge: Merge | None  # None: the rows stay with the merged customer (``keep`` says why)
    erase: Erase | None  # None: an erasure leaves them (``keep`` says why)
    keep: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.model._meta.label, self.field)


_registry: dict[tuple[str, str], CustomerReference] = {}

# Re-point every row with a plain UPDATE (the default for references that may simply move).
MOVE = "move"


def customer_reference_register(
    *,
    name: str,
    model: type[models.Model],
    field: str = "customer_id",
    merge: Merge | str | None = MOVE,
    erase: Erase | None = None,
    keep: str = "",
) -> CustomerReference:
    """Register one customer reference; registering the same (model, field) again replaces it.

    ``merge`` is MOVE (an UPDATE of ``field`` from the merged customer to the survivor), a
    callable ``(source_id=, target_id=) -> rows`` or None (kept, give ``keep``). ``erase`` is a
    callable ``(customer_id=) -> rows`` or None (kept, give ``keep``).
    """
    if (merge is None or erase is None) and not keep:
        raise ValueError(f"{model._meta.label}.{field}: say why rows are kept (keep=...)")
    move: Merge | None
    if merge == MOVE:

        def move(*, source_id: int, target_id: int) -> int:
            return model._default_manager.filter(**{field: source_id}).update(**{field: target_id})
    else:
        move = merge  # type: ignore[assignment]
    reference = CustomerReference(name, model, field, move, erase, keep)
    _registry[reference.key] = reference
    return reference


def customer_references() -> list[CustomerReference]:
    """Every registered reference, in registration order (apps' order in INSTALLED_APPS)."""
    return list(_registry.values())


def customer_references_merge(*, source_id: int, target_id: int) -> dict[str, int]:
    """Re-point every registered reference from ``source_id`` to ``target_id``; rows per name.

    Call it inside the merge's transaction (customer_merge does).
    """
    moved: dict[str, int] = {}
    for reference in customer_references():
        if reference.merge is not None:
            moved[reference.name] = reference.merge(source_id=source_id, target_id=target_id)
    return moved


def customer_references_erase(*, customer_id: int) -> dict[str, int]:
    """Run every registered erasure for ``customer_id``; rows per name.

    Call it inside the erasure's transaction (interaction_erase does).
    """
    erased: dict[str, int] = {}
    for reference in customer_references():
        if reference.erase is not None:
            erased[reference.name] = reference.erase(customer_id=customer_id)
    return erased
