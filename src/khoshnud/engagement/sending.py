"""Sending claimed outreach: email in batches over one SMTP connection, SMS and Telegram
through their adapters (channels.sms, channels.messaging).

Every message carries its opt-out: email a link (and the ``List-Unsubscribe`` /
``List-Unsubscribe-Post`` headers of RFC 8058, so mail clients offer one-click
unsubscribe), SMS and Telegram a "reply STOP" line. A send row is locked while it is sent
(``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL) and re-checked: a row another pass is
sending is skipped, a row already sent is never sent again. Consent is checked again just
before sending (it may have been withdrawn since the claim). Transient failures wait
``KHOSHNUD_ENGAGEMENT_RETRY_SECONDS`` · 2^(n-1) (at most an hour) and are tried by a later
pass; permanent ones, or the last attempt, fail the row for good.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import logging
import smtplib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from khoshnud.channels.email_outbound import email_key, html_body, message_id_domain
from khoshnud.channels.outbound import outbound_adapter
from khoshnud.channels.provider_http import PermanentSendError
from khoshnud.engagement.models import Send, SendStatus
from khoshnud.engagement.services import consent_in_force
from khoshnud.interactions.models import Direction, Interaction
from khoshnud.interactions.services import events_ingest

logger = logging.getLogger(__name__)
_SALT = "khoshnud.engagement.unsubscribe"
_MAX_DELAY = 3600.0

_STOP_LINE = {
    "fa": "برای لغو دریافت پیام، STOP بفرستید.",
    "zh-hans": "回复 STOP 退订。",
    "en": "Reply STOP to stop these messages.",
}
_UNSUBSCRIBE = {
    "fa": "لغو اشتراک",
    "zh-hans": "退订",
    "en": "Unsubscribe",
}


def unsubscribe_token(send_id: int) -> str:
    return signing.dumps(send_id, salt=_SALT, compress=True)


def unsubscribe_send_id(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def unsubscribe_url(send_id: int) -> str:
    base = (settings.KHOSHNUD_PUBLIC_URL or "http://localhost:8000").rstrip("/")
    path = reverse("engagement:unsubscribe", args=[unsubscribe_token(send_id)])
    return base + path


def opt_out_footer(*, channel: str, locale: str, send_id: int) -> str:
    if channel == "email":
        return f"{_UNSUBSCRIBE.get(locale, _UNSUBSCRIBE['en'])}: {unsubscribe_url(send_id)}"
    return _STOP_LINE.get(locale, _STOP_LINE["en"])


def message_id(send: Send) -> str:
    return f"<outreach.{send.pk}.{send.batch[:12]}@{message_id_domain()}>"


def outreach_interactions(sends: list[Send]) -> None:
    """Store each claimed send as an outbound interaction (text with its opt-out line) and
    link it to the send row. Part of the claim's transaction."""
    events: list[dict[str, Any]] = []
    for s in sends:
        text = f"{s.text}\n\n{opt_out_footer(channel=s.channel, locale=s.locale, send_id=s.pk)}"
        meta: dict[str, Any] = {"engagement": {"rule_id": s.rule_id, "send_id": s.pk}}
        if s.channel == "email":
            mid = message_id(s)
            external_id = email_key(mid)
            meta["email"] = {
                "message_id": mid,
                "to": s.address,
                "from": str(settings.DEFAULT_FROM_EMAIL),
                "subject": s.subject,
                "lang": s.locale,
            }
        else:
            external_id = f"outreach:{s.pk}"
            meta[s.channel] = {"to": s.address}
        events.append(
            {
                "source": outbound_adapter(s.channel).source,
                "external_id": external_id,
                "channel": s.channel,
                "direction": Direction.OUTBOUND,
                "type": "message",
                "occurred_at": s.claimed_at.isoformat(),
                "text": text,
                "metadata": meta,
                "customer": {"id": s.customer_id},
            }
        )
    results = events_ingest(events=events)
    for s, r in zip(sends, results, strict=True):
        if r.id is None:
            raise RuntimeError(f"outreach {s.pk} could not be stored: {r.error}")
        s.interaction_id = r.id
    _link_interactions([(s.pk, s.interaction_id) for s in sends if s.interaction_id])


def _link_interactions(pairs: list[tuple[int, int]]) -> None:
    """Send.interaction_id for many rows in one UPDATE … FROM (VALUES …): Django's
    bulk_update builds a CASE per row, which took most of a 2,000-message pass."""
    if not pairs:
        return
    table = Send._meta.db_table
    rows = ",".join(["(%s, %s)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH v(sid, iid) AS (VALUES {rows})
                UPDATE {table} SET interaction_id = v.iid FROM v
                WHERE {table}.id = v.sid""",  # noqa: S608 - table name and marks
            [x for pair in pairs for x in pair],
        )


_OUTCOME = ("status", "attempts", "last_error", "next_attempt_at", "sent_at", "provider_id")


def _save_outcomes(rows: list[Send]) -> None:
    """One UPDATE per distinct outcome (all sent rows of a batch share one): far fewer
    statements than a per-row CASE."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for r in rows:
        groups.setdefault(tuple(getattr(r, f) for f in _OUTCOME), []).append(r.pk)
    for values, ids in groups.items():
        Send.objects.filter(pk__in=ids).update(**dict(zip(_OUTCOME, values, strict=True)))


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    skipped_no_consent: int = 0


def _email_message(send: Send, interaction: Interaction, connection: Any) -> EmailMultiAlternatives:
    meta = interaction.metadata.get("email", {})
    url = unsubscribe_url(send.pk)
    headers = {
        "Message-ID": meta.get("message_id") or message_id(send),
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = EmailMultiAlternatives(
        subject=send.subject,
        body=interaction.text,
        from_email=meta.get("from") or settings.DEFAULT_FROM_EMAIL,
        to=[send.address],
        headers=headers,
        connection=connection,
    )
    page = html_body(send.text, send.locale)
    label = html.escape(_UNSUBSCRIBE.get(send.locale, _UNSUBSCRIBE["en"]))
    link = f'<p><a href="{html.escape(url)}">{label}</a></p>\n</div>'
    message.attach_alternative(page.replace("\n</div>", "\n" + link, 1), "text/html")
    return message


def _smtp_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _fail(send: Send, exc: Exception, permanent: bool, now: dt.datetime) -> None:
    send.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if permanent or send.attempts >= settings.KHOSHNUD_ENGAGEMENT_MAX_ATTEMPTS:
        send.status = SendStatus.FAILED
        send.next_attempt_at = None
        logger.warning("outreach %s failed for good: %s", send.pk, exc)
        return
    base = float(settings.KHOSHNUD_ENGAGEMENT_RETRY_SECONDS)
    delay = min(base * 2 ** max(send.attempts - 1, 0), _MAX_DELAY)
    asked = getattr(exc, "retry_after", None)
    if asked:
        delay = max(delay, min(float(asked), _MAX_DELAY))
    send.status = SendStatus.RETRY
    send.next_attempt_at = now + dt.timedelta(seconds=delay)


def _sent(send: Send, provider_id: str | None, now: dt.datetime) -> None:
    send.status = SendStatus.SENT
    send.sent_at = now
    send.provider_id = str(provider_id or "")[:255]
    send.next_attempt_at = None
    send.last_error = ""


def _send_emails(sends: list[Send], interactions: dict[int, Interaction], now: dt.datetime) -> None:
    """One SMTP connection for the batch; a dropped connection is opened again once."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # the server is down: every message of the batch waits
        for s in sends:
            _fail(s, exc, False, now)
        return
    try:
        for s in sends:
            try:
                message = _email_message(s, interactions[s.interaction_id or 0], connection)
                connection.send_messages([message])
            except Exception as exc:
                _fail(s, exc, _smtp_permanent(exc), now)
                if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
                    connection.close()
                    connection.open()
            else:
                _sent(s, None, now)
    finally:
        with contextlib.suppress(Exception):  # closing a broken connection
            connection.close()


def _send_by_adapter(send: Send, interaction: Interaction, now: dt.datetime) -> None:
    try:
        provider_id = outbound_adapter(send.channel).send(
            interaction=interaction, address=send.address
        )
    except Exception as exc:
        _fail(send, exc, isinstance(exc, PermanentSendError), now)
    else:
        _sent(send, provider_id, now)


def sends_deliver(*, limit: int | None = None) -> Delivered:
    """Send every claimed row and every retry that is due, batch by batch; returns counts.

    Each batch is locked (skip locked) for the time it is sent, re-checked, and its outcome
    committed with it, so a row leaves at most once however many passes run."""
    size = limit or int(settings.KHOSHNUD_ENGAGEMENT_BATCH)
    done = Delivered()
    seen: set[int] = set()
    while True:
        now = timezone.now()
        with transaction.atomic():
            pending = Q(status=SendStatus.CLAIMED) | Q(
                status=SendStatus.RETRY, next_attempt_at__lte=now
            )
            rows = list(
                Send.objects.select_for_update(skip_locked=True)
                .filter(pending)
                .exclude(pk__in=seen)
                .order_by("id")[:size]
            )
            if not rows:
                return done
            seen.update(r.pk for r in rows)
            consented = consent_in_force(
                customer_ids={r.customer_id for r in rows}, channels={r.channel for r in rows}
            )
            interactions = Interaction.objects.in_bulk([r.interaction_id for r in rows])
            emails: list[Send] = []
            for r in rows:
                if (r.customer_id, r.channel) not in consented:
                    r.status = SendStatus.SKIPPED
                    r.last_error = "consent withdrawn before sending"
                    done.skipped_no_consent += 1
                    continue
                r.attempts += 1
                if r.channel == "email":
                    emails.append(r)
                else:
                    _send_by_adapter(r, interactions[r.interaction_id or 0], now)
            if emails:
                _send_emails(emails, interactions, now)
            for r in rows:
                if r.status == SendStatus.SENT:
                    done.sent += 1
                elif r.status == SendStatus.FAILED:
                    done.failed += 1
            _save_outcomes(rows)
