"""Replies to a case: an outbound interaction in the log, on the case's thread, sent by the
case's channel through its adapter (channels.outbound) from a queued task."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from khoshnud import events
from khoshnud.cases.models import Case, CaseEvent, CaseInteraction, CaseStatus, ThreadRole
from khoshnud.channels.outbound import NoAdapter, OutboundAdapter, ReplyDraft, outbound_adapter
from khoshnud.channels.services import delivery_queue
from khoshnud.customers.models import Customer
from khoshnud.inputs import InputError, clean_str
from khoshnud.interactions.models import Channel, Direction, Interaction
from khoshnud.interactions.services import events_ingest

Actor = AbstractBaseUser | AnonymousUser | None
MAX_REPLY = 20_000
# Channels with no written thread of their own (a call, a visit, a web form): a reply to
# their cases goes by email. Messaging channels answer by their own (channels.messaging).
ANSWERED_BY_EMAIL = frozenset(
    {Channel.PHONE, Channel.FAX, Channel.WEB, Channel.PORTAL, Channel.IN_PERSON,
     Channel.REVIEW, Channel.API, Channel.EMAIL}
)  # fmt: skip


class CaseClosed(Exception):
    """A closed case takes no reply (reopen it, or open a new one)."""


@dataclass(frozen=True)
class Reply:
    interaction_id: int
    case_id: int
    channel: str
    address: str
    status: str  # the delivery's: queued at first
    external_id: str


def reply_channel(case: Case) -> str:
    """The channel a reply to ``case`` goes by: its own, or email for a call or a visit."""
    return Channel.EMAIL if case.channel in ANSWERED_BY_EMAIL else case.channel


def _thread(case: Case, adapter: OutboundAdapter) -> tuple[list[str], str, str, int | None]:
    """(message ids of the thread on the adapter's channel oldest first, the id of the latest
    inbound one, its subject, the latest inbound interaction's id) from the interactions'
    metadata."""
    rows = (
        Interaction.objects.filter(case_link__case_id=case.pk, channel=adapter.channel)
        .order_by("occurred_at", "id")
        .values_list("id", "direction", "metadata")
    )
    ids: list[str] = []
    answers, subject = "", ""
    inbound: int | None = None
    for pk, direction, metadata in rows:
        if direction == Direction.INBOUND:
            inbound = pk
        meta = (metadata or {}).get(adapter.channel) or {}
        message_id = meta.get("message_id") if isinstance(meta, dict) else None
        if not isinstance(message_id, str) or not message_id:
            continue
        ids.append(message_id)
        if direction == Direction.INBOUND:
            answers = message_id
            subject = str(meta.get("subject") or "")
    return ids, answers, subject, inbound


def _template_text(template: object) -> str:
    """What the log keeps of a template message (its own text is WhatsApp's): the name, the
    language and the parameters."""
    if not isinstance(template, dict):
        return ""
    params = template.get("params") or []
    shown = " · ".join(str(p) for p in params) if isinstance(params, list) else ""
    return f"[{template.get('name')} ({template.get('language')})] {shown}".strip()[:MAX_REPLY]


def case_reply(*, case: Case, text: object, actor: Actor, template: object = None) -> Reply:
    """Reply to a case: store the outbound interaction (through ingestion, so it is in the
    customer's log), link it to the case's thread, stamp the first response, write the
    history, and queue its delivery; one transaction. Sending happens after commit, in
    ``channels.tasks.deliver``.

    Raises ``CaseClosed`` for a closed case and ``InputError`` for empty or too long text, a
    channel no adapter sends on, or a customer without an address on it; nothing is stored
    then. Permission is the caller's (``access_case``).

    ``template``: a provider's approved message instead of free text (WhatsApp's, which may
    go outside its 24-hour window): ``{"name", "language", "params"}``; ``text`` may be empty
    then (the log keeps the template's name and parameters).
    """
    if template is not None and text in (None, ""):
        text = _template_text(template) or None
    body = clean_str(text, field="text", max_length=MAX_REPLY)
    if case.status == CaseStatus.CLOSED:
        raise CaseClosed(f"case {case.pk} is closed; reopen it to reply")
    channel = reply_channel(case)
    try:
        adapter = outbound_adapter(channel)
    except NoAdapter as exc:
        raise InputError("channel", str(exc)) from None
    if template is not None and not getattr(adapter, "takes_templates", False):
        raise InputError("template", f"{channel} has no message templates; send text")
    thread, answers, subject, inbound = _thread(case, adapter)
    # A messaging reply leaves by the account the case's latest inbound message came in by.
    address = adapter.address(customer_id=case.customer_id, answering=inbound)
    if not address:
        raise InputError(
            "customer", f"customer #{case.customer_id} has no {channel} address to reply to"
        )
    locale = Customer.objects.filter(pk=case.customer_id).values_list("locale", flat=True).first()
    draft = ReplyDraft(
        customer_id=case.customer_id,
        address=address,
        text=body,
        subject=subject or case.subject,
        locale=locale or "en",
        thread=thread,
        answers=answers,
        template=template if isinstance(template, dict) else None,
    )
    if template is not None and not isinstance(template, dict):
        raise InputError("template", "must be an object with name, language and params")
    external_id, metadata = adapter.prepare(draft=draft)
    metadata["case_id"] = case.pk
    user = actor if isinstance(actor, User) else None
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status == CaseStatus.CLOSED:  # closed meanwhile
            raise CaseClosed(f"case {case.pk} is closed; reopen it to reply")
        now = timezone.now()
        [result] = events_ingest(
            events=[
                {
                    "source": adapter.source,
                    "external_id": external_id,
                    "channel": channel,
                    "direction": Direction.OUTBOUND,
                    "type": "message",
                    "occurred_at": now.isoformat(),
                    "text": body,
                    "metadata": metadata,
                    "staff": user.get_username() if user else None,
                    "customer": {"id": locked.customer_id},
                }
            ]
        )
        if result.status != "created" or result.id is None:
            raise InputError("customer", result.error or "the reply could not be stored")
        CaseInteraction.objects.create(case=locked, interaction_id=result.id, role=ThreadRole.REPLY)
        fields = ["updated_at"]
        if locked.first_responded_at is None:
            locked.first_responded_at = now
            fields.append("first_responded_at")
            CaseEvent.objects.create(
                case=locked,
                actor=user,
                action=events.CASE_FIRST_RESPONSE,
                changes={
                    "first_responded_at": {"from": None, "to": now.isoformat()},
                    "interaction": result.id,
                },
            )
        changes: dict[str, object] = {"interaction": result.id, "channel": channel, "to": address}
        if locked.status == CaseStatus.NEW:  # someone is working on it now
            changes["status"] = {"from": locked.status, "to": CaseStatus.OPEN.value}
            locked.status = CaseStatus.OPEN
            fields.append("status")
        locked.save(update_fields=fields)
        CaseEvent.objects.create(
            case=locked, actor=user, action=events.CASE_REPLIED, changes=changes
        )
        delivery = delivery_queue(interaction_id=result.id, channel=channel, address=address)
    return Reply(
        interaction_id=result.id,
        case_id=locked.pk,
        channel=channel,
        address=address,
        status=delivery.status,
        external_id=external_id,
    )
