"""Outbound SMS through SMS.ir (an Iranian gateway), its REST API v1.

``POST {SMS_IR_API_BASE}/send/bulk`` with the header ``X-API-KEY`` and the JSON body
``{"lineNumber": 30007732000000, "messageText": "...", "mobiles": ["09121234567"],
"sendDateTime": null}``; the answer is ``{"status": 1, "message": "موفق", "data": {"packId":
"...", "messageIds": [89545112], "cost": 1.0}}`` (status 1 = accepted; see
https://app.sms.ir/developer/help/bulk). Credentials from the environment: ``SMS_IR_API_KEY``,
``SMS_IR_LINE_NUMBER``; the base URL is a setting so tests run against a local server.
A customer is reached at their primary phone identity. Only queued work sends (never a request).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from khoshnud.channels.outbound import ReplyDraft
from khoshnud.channels.provider_http import PermanentSendError, TransientSendError, call
from khoshnud.customers.models import Identity, IdentityKind
from khoshnud.interactions.models import Interaction

# SMS.ir status codes that mean "try later" (server busy, too many requests); others refuse.
_TRANSIENT = frozenset({0, 10, 11, 12, 13, 104, 105, 106})
MAX_TEXT = 670  # ten concatenated Persian (UCS-2) parts of 67 characters


def local_mobile(phone: str) -> str:
    """+989121234567 → 09121234567, as SMS.ir takes Iranian mobiles; others stay as given."""
    digits = phone.strip().replace(" ", "")
    if digits.startswith("+98"):
        return "0" + digits[3:]
    return digits.lstrip("+")


class SmsIrAdapter:
    channel = "sms"
    source = "sms"

    def address(self, *, customer_id: int, answering: int | None = None) -> str | None:
        found = (
            Identity.objects.filter(customer_id=customer_id, kind=IdentityKind.PHONE)
            .order_by("-is_primary", "id")
            .values_list("value", flat=True)
            .first()
        )
        return found or None

    def prepare(self, *, draft: ReplyDraft) -> tuple[str, dict[str, Any]]:
        return f"out:{uuid.uuid4().hex}", {"sms": {"to": draft.address}}

    def send(self, *, interaction: Interaction, address: str) -> str:
        return self.send_text(to=address, text=interaction.text)

    def send_text(self, *, to: str, text: str) -> str:
        if not settings.SMS_IR_API_KEY or not settings.SMS_IR_LINE_NUMBER:
            raise PermanentSendError("SMS is not set up: set SMS_IR_API_KEY and SMS_IR_LINE_NUMBER")
        if len(text) > MAX_TEXT:
            raise PermanentSendError(f"an SMS takes at most {MAX_TEXT} characters")
        line = str(settings.SMS_IR_LINE_NUMBER)
        answer = call(
            "POST",
            f"{settings.SMS_IR_API_BASE.rstrip('/')}/send/bulk",
            payload={
                "lineNumber": int(line) if line.isdigit() else line,
                "messageText": text,
                "mobiles": [local_mobile(to)],
                "sendDateTime": None,
            },
            headers={"X-API-KEY": settings.SMS_IR_API_KEY},
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        status = body.get("status")
        if 200 <= answer.status < 300 and status == 1:
            ids = (body.get("data") or {}).get("messageIds") or [""]
            return str(ids[0])
        what = f"SMS.ir {status if status is not None else answer.status}: {body.get('message') or 'refused'}"
        if answer.status == 429 or answer.status >= 500 or status in _TRANSIENT:
            raise TransientSendError(what, retry_after=answer.retry_after)
        raise PermanentSendError(what)
