"""API for channels: inbound email as a raw RFC 822 message; messaging channel accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.http.request import RawPostDataException
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Role, Scope
from khoshnud.channels.messaging_services import (
    AccountInUse,
    account_create,
    account_delete,
    account_test_queue,
    account_update,
)
from khoshnud.channels.models import ChannelAccount
from khoshnud.channels.selectors import account_webhook_url, accounts_list
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


class AccountIn(Schema):
    provider: str = Field(
        ..., examples=["telegram"], description="telegram, whatsapp, instagram or wechat"
    )
    name: str = Field(..., examples=["Shop bot"])
    credentials: dict[str, Any] = Field(
        ...,
        examples=[{"bot_token": "123456:ABC-DEF", "secret_token": "a-long-random-string"}],
        description=(
            "telegram: bot_token, secret_token; whatsapp: access_token, phone_number_id, "
            "app_secret, verify_token; instagram: access_token, app_secret, verify_token "
            "(ig_user_id optional); wechat: app_id, app_secret, token. Stored encrypted, "
            "never returned."
        ),
    )


class AccountCreatedOut(Schema):
    id: int
    webhook_url: str = Field(..., description="paste it into the provider's console")


class AccountOut(Schema):
    id: int
    provider: str
    name: str
    webhook_url: str
    is_active: bool
    created_at: dt.datetime
    last_test_status: str = Field(..., description="'', queued, sent or failed")
    last_test_error: str
    auth_error: str = Field(
        ..., description="the provider's words when it last refused the credentials; '' if not"
    )


def _account_out(request: HttpRequest, account: ChannelAccount) -> dict[str, Any]:
    return {
        "id": account.pk,
        "provider": account.provider,
        "name": account.name,
        "webhook_url": account_webhook_url(account=account, request=request),
        "is_active": account.is_active,
        "created_at": account.created_at,
        "last_test_status": account.last_test_status,
        "last_test_error": account.last_test_error,
        "auth_error": account.credentials_error,
    }


@router.post(
    "/channels/accounts",
    response={201: AccountCreatedOut},
    openapi_extra={
        "responses": {
            "400": {
                "description": "unknown provider or credentials without its required keys",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        }
    },
)
def account_add(request: HttpRequest, payload: AccountIn) -> Status[dict[str, Any]]:
    """Add a messaging channel account (admin role, write scope). Its credentials are checked
    for the provider's required keys, stored encrypted and never shown again; the answer
    gives the webhook URL to paste into the provider's console (for Telegram, `setWebhook`
    with the same `secret_token`). 400 for a provider or credentials that do not fit."""
    require(request, scope=Scope.WRITE, role=Role.ADMIN)
    try:
        account = account_create(
            provider=payload.provider, name=payload.name, credentials=payload.credentials
        )
    except InputError as exc:
        raise HttpError(400, str(exc)) from None
    return Status(
        201,
        {"id": account.pk, "webhook_url": account_webhook_url(account=account, request=request)},
    )


def _account_or_404(account_id: int) -> ChannelAccount:
    account = ChannelAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise HttpError(404, f"no channel account #{account_id}")
    return account


class AccountPatch(Schema):
    name: str | None = None
    is_active: bool | None = Field(
        None, description="false: its webhook answers 404, nothing is sent"
    )
    credentials: dict[str, Any] | None = Field(
        None,
        examples=[{"bot_token": "123456:NEW-TOKEN"}],
        description="keys to replace (the others are kept); never returned",
    )


@router.patch("/channels/accounts/{account_id}", response={200: AccountOut})
def account_change(request: HttpRequest, account_id: int, payload: AccountPatch) -> dict[str, Any]:
    """Rename an account, switch it off or on, or replace some of its credentials (admin
    role, write scope). 400 for values that do not fit (nothing changed); 404 when there is
    no such account."""
    require(request, scope=Scope.WRITE, role=Role.ADMIN)
    account = _account_or_404(account_id)
    try:
        account_update(
            account=account,
            name=payload.name,
            is_active=payload.is_active,
            credentials=payload.credentials,
        )
    except InputError as exc:
        raise HttpError(400, str(exc)) from None
    return _account_out(request, account)


@router.delete("/channels/accounts/{account_id}", response={204: None})
def account_remove(request: HttpRequest, account_id: int) -> Status[None]:
    """Delete an account no message came in or went out by (admin role, write scope); 409
    when messages name it — switch it off (`PATCH {"is_active": false}`) instead."""
    require(request, scope=Scope.WRITE, role=Role.ADMIN)
    account = _account_or_404(account_id)
    try:
        account_delete(account=account)
    except AccountInUse as exc:
        raise HttpError(409, str(exc)) from None
    return Status(204, None)


class AccountTestIn(Schema):
    recipient: str = Field(
        ..., examples=["5551234"],
        description="a Telegram chat id, a WhatsApp number, an Instagram-scoped id, an openid",
    )  # fmt: skip


class AccountTestOut(Schema):
    status: str = Field(..., description="queued; the result shows in last_test_status")


@router.post("/channels/accounts/{account_id}/test", response={202: AccountTestOut})
def account_test(
    request: HttpRequest, account_id: int, payload: AccountTestIn
) -> Status[dict[str, str]]:
    """Queue a test message from the account to `recipient` (admin role, write scope); its
    result (sent, or the provider's refusal) shows in the account's `last_test_status` and
    `last_test_error`. 400 for an empty recipient."""
    require(request, scope=Scope.WRITE, role=Role.ADMIN)
    account = _account_or_404(account_id)
    try:
        account_test_queue(account=account, recipient=payload.recipient)
    except InputError as exc:
        raise HttpError(400, str(exc)) from None
    return Status(202, {"status": "queued"})


@router.get("/channels/accounts", response={200: list[AccountOut]})
def account_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every channel account, without credentials (admin role)."""
    require(request, scope=Scope.READ, role=Role.ADMIN)
    return [_account_out(request, a) for a in accounts_list()]


@router.get("/channels/accounts/{account_id}", response={200: AccountOut})
def account_detail(request: HttpRequest, account_id: int) -> dict[str, Any]:
    """One channel account, without credentials (admin role); 404 when there is none."""
    require(request, scope=Scope.READ, role=Role.ADMIN)
    return _account_out(request, _account_or_404(account_id))
