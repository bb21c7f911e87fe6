"""Privacy erasure: the only change the append-only log allows, and always audited.

The log's two audited exceptions live here: blanking a customer's messages (erasure) and
moving them to the surviving customer (merge); both are run through customers.references.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from khoshnud.accounts.services import audit_log
from khoshnud.customers.references import customer_references_erase
from khoshnud.inputs import clean_str
from khoshnud.interactions.models import Interaction


@transaction.atomic
def interaction_erase(
    *, customer_id: int, reason: str, actor: AbstractBaseUser | AnonymousUser | None
) -> int:
    """Blank the text and metadata of every interaction of a customer; returns how many.

    The rows stay (counts and metrics keep their shape); what the customer said is gone, and
    so is what other apps derived from it (each app's erase handler in customers.references:
    the language analyses today). One transaction, one audit row with the counts.
    Raises ValueError (inputs.InputError) without a readable reason of at most 500 characters.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("an erasure needs a reason")
    reason = clean_str(reason, field="reason", max_length=500)
    erased = customer_references_erase(customer_id=customer_id)
    count = erased.get("interactions", 0)
    audit_log(
        actor=actor,
        action="interaction.erase",
        object_type="customer",
        object_id=customer_id,
        customer_id=customer_id,
        data={"count": count, "reason": reason, "erased": erased},
    )
    return count


def interactions_blank(*, customer_id: int) -> int:
    """Erase handler (customers.references): blank the customer's interactions not yet erased."""
    return Interaction.objects.filter(
        customer_id=customer_id, erased_at__isnull=True
    )._erase_update(text="", metadata={}, erased_at=timezone.now())


def interactions_repoint(*, source_id: int, target_id: int) -> int:
    """Merge handler (customers.references): a merged customer's history goes to the survivor."""
    return Interaction.objects.filter(customer_id=source_id)._erase_update(customer_id=target_id)
