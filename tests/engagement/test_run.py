"""Scheduler passes against a real SMTP server (aiosmtpd) and a local SMS/Telegram server.

Dates by hand: 1404 has no 30 Esfand, so a 30 Esfand birthday falls on 29 Esfand 1404 =
2026-03-20 (1 Farvardin 1405 = 2026-03-21); with one day's lead it is sent on 2026-03-19.
Tehran is UTC+03:30 all year (no DST since 2022), Shanghai UTC+08:00.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from khoshnud.customers.models import Consent, Customer
from khoshnud.customers.services import consent_record
from khoshnud.engagement.models import Send, SendStatus
from khoshnud.engagement.scheduler import engagement_claim, engagement_run
from khoshnud.engagement.sending import sends_deliver
from khoshnud.interactions.models import Interaction
from tests.channels.conftest import Inbox

pytestmark = pytest.mark.django_db
Make = Callable[..., Customer]
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def tehran_birthday(make_customer: Make, **kw: Any) -> Customer:
    return make_customer(
        birthday="1370-12-30",
        calendar="jalali",
        locale="fa",
        time_zone="Asia/Tehran",
        first_name="سارا",
        **kw,
    )


def test_birthday_email_in_persian_right_to_left_sent_once(
    smtp: Inbox, make_customer: Make, make_rule: Any
) -> None:
    sara = tehran_birthday(make_customer)
    make_rule(lead_days=1, send_window=["09:00", "20:00"])
    # 2026-03-19 06:00Z = 09:30 in Tehran, the send day: inside the window.
    first = engagement_run(now=at("2026-03-19T06:00:00+00:00")).as_dict()
    assert first == {
        "due": 1, "sent": 1, "skipped_no_consent": 0, "skipped_cap": 0, "skipped_quiet": 0,
        "failed": 0,
    }  # fmt: skip
    second = engagement_run(now=at("2026-03-19T06:00:00+00:00")).as_dict()
    assert second["due"] == 0 and second["sent"] == 0
    [message] = smtp.messages
    assert message["To"] == sara.identities.get().value
    assert message["Subject"] == "تولدت مبارک سارا"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://[^>]+/outreach/u/[^/]+/>", message["List-Unsubscribe"].strip())
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    page = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert plain.startswith("سلام سارا")
    assert '<html lang="fa" dir="rtl">' in page
    send = Send.objects.get()
    assert send.status == SendStatus.SENT and send.occurrence == "birthday:2026-03-20"
    out = Interaction.objects.get(pk=send.interaction_id)
    assert out.direction == "outbound" and out.channel == "email" and out.customer_id == sara.pk


def test_the_unsubscribe_link_takes_effect_at_once(
    smtp: Inbox, make_customer: Make, make_rule: Any, client: Client
) -> None:
    sara = tehran_birthday(make_customer)
    make_rule()
    engagement_run(now=at("2026-03-19T06:00:00+00:00"))
    url = smtp.messages[0]["List-Unsubscribe"].strip().strip("<>")
    path = url.split("://", 1)[1].split("/", 1)[1]
    answer = client.post("/" + path, {"List-Unsubscribe": "One-Click"})  # RFC 8058 one-click
    assert answer.status_code == 200
    latest = Consent.objects.filter(customer=sara, channel="email").order_by("-id").first()
    assert latest is not None and latest.granted is False
    assert Interaction.objects.filter(customer=sara, type="note", source="engagement").count() == 1
    assert client.get("/" + path).status_code == 200  # again: nothing more recorded
    assert Interaction.objects.filter(customer=sara, type="note", source="engagement").count() == 1
    make_rule(name="Another", lead_days=1, weekly_cap=5)
    again = engagement_run(now=at("2026-03-19T07:00:00+00:00")).as_dict()
    assert again["skipped_no_consent"] == 1 and again["sent"] == 0
    assert len(smtp.messages) == 1
    assert client.get("/outreach/u/forged/").status_code == 404


@pytest.mark.parametrize(
    ("utc", "outcome"),
    [
        ("2026-03-19T00:59:59+00:00", "quiet"),  # 08:59:59 Shanghai: before the window
        ("2026-03-19T01:00:00+00:00", "sent"),  # 09:00: the window opens
        ("2026-03-19T04:00:00+00:00", "quiet"),  # 12:00: quiet hours begin
        ("2026-03-19T05:59:59+00:00", "quiet"),  # 13:59:59: still quiet
        ("2026-03-19T06:00:00+00:00", "sent"),  # 14:00: quiet hours over
        ("2026-03-19T11:59:59+00:00", "sent"),  # 19:59:59
        ("2026-03-19T12:00:00+00:00", "quiet"),  # 20:00: the window has closed
    ],
)
def test_send_window_and_quiet_hours_at_their_boundaries_in_shanghai(
    smtp: Inbox, make_customer: Make, make_rule: Any, utc: str, outcome: str
) -> None:
    make_customer(birthday="1990-03-20", time_zone="Asia/Shanghai", locale="zh-hans")
    make_rule(lead_days=1, send_window=["09:00", "20:00"], quiet_hours=["12:00", "14:00"])
    result = engagement_run(now=at(utc)).as_dict()
    assert result["due"] == 1
    assert result["sent" if outcome == "sent" else "skipped_quiet"] == 1
    assert len(smtp.messages) == (1 if outcome == "sent" else 0)


def test_the_send_day_is_the_customers_local_day(
    smtp: Inbox, make_customer: Make, make_rule: Any
) -> None:
    # 2026-03-18 21:00Z is already 2026-03-19 00:30 in Tehran: the send day there, yet
    # before the window; 2026-03-18 20:29Z is still the 18th in Tehran: not due at all.
    tehran_birthday(make_customer)
    make_rule(lead_days=1, send_window=["00:00", "23:59"])
    assert engagement_run(now=at("2026-03-18T20:29:00+00:00")).due == 0
    assert engagement_run(now=at("2026-03-18T21:00:00+00:00")).sent == 1


def test_weekly_cap_across_rules(smtp: Inbox, make_customer: Make, make_rule: Any) -> None:
    c = make_customer(birthday="1990-03-20")
    make_rule(name="Birthday", lead_days=1)
    make_rule(
        name="Spring sale",
        kind="campaign",
        audience={"customer_ids": [c.pk]},
        templates={"en": {"subject": "Sale", "body": "Hi {{ first_name }}"}},
    )
    result = engagement_run(now=at("2026-03-19T10:00:00+00:00")).as_dict()
    assert (result["due"], result["sent"], result["skipped_cap"]) == (2, 1, 1)
    # Eight days later the week has passed: the campaign (still due) goes.
    later = engagement_run(now=at("2026-03-27T10:00:00+00:00")).as_dict()
    assert later["sent"] == 1 and len(smtp.messages) == 2


def test_no_consent_means_nothing_sent(smtp: Inbox, make_customer: Make, make_rule: Any) -> None:
    make_customer(birthday="1990-03-20", consent=())
    make_rule(lead_days=1)
    result = engagement_run(now=at("2026-03-19T10:00:00+00:00")).as_dict()
    assert result["skipped_no_consent"] == 1 and result["sent"] == 0
    assert not Send.objects.exists() and smtp.messages == []


def test_consent_withdrawn_between_claiming_and_sending(
    smtp: Inbox, make_customer: Make, make_rule: Any
) -> None:
    c = make_customer(birthday="1990-03-20")
    make_rule(lead_days=1)
    assert engagement_claim(now=at("2026-03-19T10:00:00+00:00")).due == 1
    consent_record(customer=c, channel="email", granted=False, method="phone call")
    done = sends_deliver()
    assert (done.sent, done.skipped_no_consent) == (0, 1)
    assert Send.objects.get().status == SendStatus.SKIPPED and smtp.messages == []


def test_transient_failures_retry_then_fail_for_good(
    refusing_smtp: Any, make_customer: Make, make_rule: Any, settings: Any
) -> None:
    settings.KHOSHNUD_ENGAGEMENT_RETRY_SECONDS = 0
    settings.KHOSHNUD_ENGAGEMENT_MAX_ATTEMPTS = 3
    make_customer(birthday="1990-03-20")
    make_rule(lead_days=1)
    now = at("2026-03-19T10:00:00+00:00")
    first = engagement_run(now=now).as_dict()
    send = Send.objects.get()
    assert (first["sent"], first["failed"], send.status, send.attempts) == (0, 0, "retry", 1)
    assert "451" in send.last_error
    engagement_run(now=now)
    third = engagement_run(now=now).as_dict()
    send.refresh_from_db()
    assert (third["failed"], send.status, send.attempts) == (1, "failed", 3)
    assert refusing_smtp.tries == 3
    assert engagement_run(now=now).as_dict()["failed"] == 0  # failed for good: left alone


def test_retry_after_a_transient_failure_sends_once(
    settings: Any, make_customer: Make, make_rule: Any
) -> None:
    from tests.channels.conftest import _serve

    settings.KHOSHNUD_ENGAGEMENT_RETRY_SECONDS = 0

    class Flaky(Inbox):
        calls = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.calls += 1
            if self.calls == 1:
                return "421 4.7.0 busy"
            return await super().handle_DATA(server, session, envelope)

    gen = _serve(Flaky(), settings)
    inbox = next(gen)
    try:
        make_customer(birthday="1990-03-20")
        make_rule(lead_days=1)
        now = at("2026-03-19T10:00:00+00:00")
        assert engagement_run(now=now).sent == 0
        assert engagement_run(now=now).sent == 1
        assert engagement_run(now=now).sent == 0
        assert len(inbox.messages) == 1
    finally:
        gen.close()


def test_cli_prints_the_counts_as_its_last_json_line(
    smtp: Inbox, make_customer: Make, make_rule: Any, capsys: Any
) -> None:
    tehran_birthday(make_customer)
    make_rule()
    call_command("engagement", "run", "--now", "2026-03-19T06:00:00+00:00")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["sent"] == 1
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--now"):
        call_command("engagement", "run", "--now", "2026-03-19 06:00")  # no zone
