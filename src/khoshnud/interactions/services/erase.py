"""Privacy erasure: the only change the append-only log allows, and always audited."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from khoshnud.accounts.services import audit_log
from khoshnud.inputs import clean_str
from khoshnud.interactions.models import Interaction


@transaction.atomic
def interaction_erase(
    *, customer_id: int, reason: str, actor: AbstractBaseUser | AnonymousUser | None
) -> int:
    """Blank the text and metadata of every interaction of a customer; returns how many.

    The rows stay (counts and metrics keep their shape); what the customer said is gone.
    Raises ValueError (inputs.InputError) without a readable reason of at most 500 characters.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("an erasure needs a reason")
    reason = clean_str(reason, field="reason", max_length=500)
    count = Interaction.objects.filter(
        customer_id=customer_id, erased_at__isnull=True
    )._erase_update(text="", metadata={}, erased_at=timezone.now())
    audit_log(
        actor=actor,
        action="interaction.erase",
        object_type="customer",
        object_id=customer_id,
        customer_id=customer_id,
        data={"count": count, "reason": reason},
    )
    return count
