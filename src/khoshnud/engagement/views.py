"""Web doors of the engagement app: the public unsubscribe link, and the Outreach pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from khoshnud.engagement.models import Send
from khoshnud.engagement.sending import unsubscribe_send_id
from khoshnud.engagement.services import opt_out


@csrf_exempt  # mail clients post the one-click unsubscribe (RFC 8058) without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The opt-out link of an outreach email: it takes effect at once, on GET (the link) and
    on POST (``List-Unsubscribe-Post``), and says so in the customer's language."""
    send_id = unsubscribe_send_id(token)
    send = Send.objects.filter(pk=send_id).first() if send_id else None
    if send is None:
        return render(request, "engagement/unsubscribe.html", {"ok": False}, status=404)
    opt_out(customer_id=send.customer_id, channel=send.channel, how="unsubscribe link")
    with translation.override(send.locale or "en"):
        return render(request, "engagement/unsubscribe.html", {"ok": True, "send": send})
