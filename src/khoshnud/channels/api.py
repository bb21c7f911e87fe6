"""API for channels: inbound email as a raw RFC 822 message."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.request import RawPostDataException
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Scope
from khoshnud.channels.services import email_receive
from khoshnud.inputs import InputError

router = Router(tags=["channels"])


class EmailInboundOut(Schema):
    id: int = Field(..., description="the inbound interaction's id")
    customer_id: int
    status: str = Field(..., description="created, or duplicate for a Message-ID already stored")
    message_id: str
    notes: list[str] = Field(
        ..., description="what was done about faults: no Message-ID, unknown charset, no date"
    )


_RAW = {"schema": {"type": "string", "description": "the raw message, headers and body"}}


@router.post(
    "/channels/email/inbound",
    response={200: EmailInboundOut, 201: EmailInboundOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": _RAW, "text/plain": _RAW},
        }
    },
)
def email_inbound(request: HttpRequest) -> Status[dict[str, Any]]:
    """Receive an email as mail providers' inbound webhooks and `fetchmail` deliver it: the
    raw RFC 822 bytes as the body (`message/rfc822` or `text/plain`). Stored as an inbound
    email interaction of the sender (found or created by the From address); a reply to one
    of our messages joins the case it answers. 201 when stored, 200 when that Message-ID was
    already stored (nothing changes); 422 for a body that is not an email."""
    require(request, scope=Scope.WRITE)
    try:
        raw = request.body
    except RawPostDataException:
        raise HttpError(400, "send the raw message as the body, not as a form") from None
    try:
        received = email_receive(raw=raw)
    except InputError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(
        201 if received.status == "created" else 200,
        {
            "id": received.interaction_id,
            "customer_id": received.customer_id,
            "status": received.status,
            "message_id": received.message_id,
            "notes": received.notes,
        },
    )
