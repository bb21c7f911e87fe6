"""Web doors of the channels app: the providers' webhooks and the admins' channel accounts page.

Webhooks take no session and no token (the provider's signature is the authentication),
are CSRF-exempt, refuse bodies over ``KHOSHNUD_WEBHOOK_MAX_BYTES`` and answer as soon as the
message is stored: classification and the case step run after commit, from the queue.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from khoshnud.accounts.access import staff_required
from khoshnud.accounts.models import Role, Scope
from khoshnud.channels.credentials import FIELDS, CredentialsUnreadable
from khoshnud.channels.messaging_services import (
    AccountInUse,
    account_create,
    account_delete,
    account_test_queue,
    account_update,
    webhook_handshake,
    webhook_parse,
    webhook_receive,
)
from khoshnud.channels.models import ChannelAccount, Provider
from khoshnud.channels.selectors import account_by_slug, account_webhook_url, accounts_list
from khoshnud.channels.webhooks import WebhookRefused
from khoshnud.inputs import InputError

logger = logging.getLogger(__name__)


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": []}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, slug: str) -> HttpResponse:
    """One channel account's webhook: GET is the provider's subscription check, POST its
    updates. 401/403 when unverified, 400 malformed, 413 too large; nothing stored then."""
    account = account_by_slug(slug=slug)
    if account is None:
        return _error(404, "no channel account has this webhook")
    params = request.GET.dict()
    try:
        if request.method == "GET":
            return HttpResponse(webhook_handshake(account=account, params=params),
                                content_type="text/plain; charset=utf-8")  # fmt: skip
        limit = settings.KHOSHNUD_WEBHOOK_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit() or int(declared) > limit:
            return _error(413, f"the body is larger than {limit:,} bytes")
        raw = request.body
        if len(raw) > limit:
            return _error(413, f"the body is larger than {limit:,} bytes")
        parsed = webhook_parse(
            account=account, raw=raw, headers=dict(request.headers), params=params
        )
        result = webhook_receive(account=account, parsed=parsed)
    except WebhookRefused as exc:
        logger.info("webhook of channel account %s refused: %s", account.pk, exc)
        return _error(exc.status, str(exc))
    except InputError as exc:
        return _error(400, str(exc))
    except CredentialsUnreadable as exc:
        logger.error("channel account %s: %s", account.pk, exc)
        return _error(503, "this account's credentials cannot be read: an admin must re-enter them")
    if account.provider == Provider.WECHAT:
        return HttpResponse("success", content_type="text/plain; charset=utf-8")
    return JsonResponse(
        {
            "ok": True,
            "created": result.created,
            "duplicates": result.duplicates,
            "receipts": result.receipts,
            "ignored": result.ignored,
        }
    )


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    rows = [
        {
            "account": a,
            "webhook_url": account_webhook_url(account=a, request=request),
            "keys": FIELDS[a.provider][0] + FIELDS[a.provider][1],
        }
        for a in accounts_list()
    ]
    fields = {p: {"required": r, "optional": o} for p, (r, o) in FIELDS.items()}
    context = {"rows": rows, "providers": Provider.choices, "fields": fields, **extra}
    return render(request, "channels/account_list.html", context, status=status)


@require_GET
@staff_required(role=Role.ADMIN)
def account_list(request: HttpRequest) -> HttpResponse:
    """Channel accounts: each with its webhook URL and a test button; a form to add one."""
    return _page(request)


@require_POST
@sensitive_post_parameters()  # error reports never carry the typed credentials
@staff_required(role=Role.ADMIN, scope=Scope.WRITE)
def account_add(request: HttpRequest) -> HttpResponse:
    provider = request.POST.get("provider", "")
    required, optional = FIELDS.get(provider, ((), ()))
    credentials = {k: request.POST.get(f"{provider}-{k}", "") for k in required + optional}
    try:
        account = account_create(
            provider=provider or None, name=request.POST.get("name", ""), credentials=credentials
        )
    except InputError as exc:
        # The secrets typed are not sent back into the page: the admin types them again.
        return _page(request, status=400, error=exc.message, form_name=request.POST.get("name"))
    messages.success(
        request,
        _("Channel account %(name)s added; paste its webhook URL into %(provider)s.")
        % {"name": account.name, "provider": account.get_provider_display()},
    )
    return redirect("channels:account_list")


@require_POST
@staff_required(role=Role.ADMIN, scope=Scope.WRITE)
def account_test(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(ChannelAccount, pk=account_id)
    try:
        account_test_queue(account=account, recipient=request.POST.get("recipient", ""))
    except InputError:
        return _page(request, status=400, error=_("Say whom the test message goes to."))
    messages.success(request, _("Test message queued; its result shows here."))
    return redirect("channels:account_list")


@require_POST
@sensitive_post_parameters()
@staff_required(role=Role.ADMIN, scope=Scope.WRITE)
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    """Rename an account and replace the credentials typed (empty fields keep theirs)."""
    account = get_object_or_404(ChannelAccount, pk=account_id)
    required, optional = FIELDS[account.provider]
    typed = {k: request.POST.get(f"edit-{account.pk}-{k}", "") for k in required + optional}
    try:
        account_update(
            account=account,
            name=request.POST.get("name", ""),
            credentials={k: v for k, v in typed.items() if v} or None,
        )
    except InputError as exc:
        return _page(request, status=400, error=exc.message)
    messages.success(request, _("Channel account %(name)s saved.") % {"name": account.name})
    return redirect("channels:account_list")


@require_POST
@staff_required(role=Role.ADMIN, scope=Scope.WRITE)
def account_switch(request: HttpRequest, account_id: int) -> HttpResponse:
    """Switch an account off (its webhook answers 404, nothing is sent by it) or on again."""
    account = get_object_or_404(ChannelAccount, pk=account_id)
    on = request.POST.get("is_active") == "1"
    account_update(account=account, is_active=on)
    done = (
        _("Channel account %(name)s switched on.")
        if on
        else _(
            "Channel account %(name)s switched off: its webhook answers 404 and nothing is sent by it."
        )
    )
    messages.success(request, done % {"name": account.name})
    return redirect("channels:account_list")


@require_POST
@staff_required(role=Role.ADMIN, scope=Scope.WRITE)
def account_remove(request: HttpRequest, account_id: int) -> HttpResponse:
    """Delete an account no message references, once the admin ticked the confirmation."""
    account = get_object_or_404(ChannelAccount, pk=account_id)
    if request.POST.get("confirm") != "1":
        return _page(request, status=400, error=_("Tick the box to confirm the deletion."))
    try:
        account_delete(account=account)
    except AccountInUse:
        return _page(
            request,
            status=409,
            error=_(
                "Messages came in or went out by %(name)s, so it is not deleted; switch it off "
                "instead."
            )
            % {"name": account.name},
        )
    messages.success(request, _("Channel account %(name)s deleted.") % {"name": account.name})
    return redirect("channels:account_list")
