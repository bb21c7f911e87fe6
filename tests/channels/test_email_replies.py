"""Replies to a case sent by email through a real SMTP server, threaded on the customer's mail."""

from __future__ import annotations

from typing import Any

import pytest

from khoshnud.cases.models import Case, CaseEvent, CaseInteraction
from khoshnud.cases.services import case_open
from khoshnud.channels.models import Delivery
from khoshnud.channels.services import delivery_retry_delay
from khoshnud.customers.services import customer_create
from khoshnud.interactions.models import Interaction
from khoshnud.interactions.services import events_ingest
from tests.cases.conftest import Shop
from tests.channels.conftest import Inbox, Refusing

pytestmark = pytest.mark.django_db

PERSIAN = "سلام سارا جان،\nآسیاب جدید فردا ارسال می‌شود.\n\nبا سپاس <تیم خوشنود>"


def _case(shop: Shop, channel: str = "email") -> Case:
    return case_open(customer_id=shop.customer.pk, kind="support", channel=channel,
                     subject="Grinder makes a noise")  # fmt: skip


def _reply(shop: Shop, case_id: int, text: object, capture: Any, user: str = "support") -> Any:
    with capture(execute=True):
        return shop.client(shop.agents[user]).post(
            f"/api/v1/cases/{case_id}/replies", {"text": text}, content_type="application/json"
        )


def test_a_persian_reply_arrives_with_both_parts_rtl_and_its_threading_headers(
    shop: Shop, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    shop.customer.locale = "fa"
    shop.customer.save()
    case = _case(shop)
    # The customer's earlier email on the thread: the reply answers it.
    [earlier] = events_ingest(events=[{
        "source": "email", "external_id": "<q-1@mail.example>", "channel": "email",
        "direction": "inbound", "occurred_at": "2026-12-02T14:05:00+03:30",
        "text": "آسیاب صدا می‌دهد", "customer": {"id": shop.customer.pk},
        "metadata": {"email": {"message_id": "<q-1@mail.example>", "subject": "آسیاب"}},
    }])  # fmt: skip
    CaseInteraction.objects.create(case=case, interaction_id=earlier.id, role="inbound")

    resp = _reply(shop, case.pk, PERSIAN, django_capture_on_commit_callbacks)
    assert resp.status_code == 201, resp.content
    out = resp.json()
    assert (out["case_id"], out["channel"], out["to"], out["status"]) == (
        case.pk, "email", "sara@example.com", "queued"
    )  # fmt: skip

    [message] = smtp.messages
    assert smtp.envelopes == [("care@shop.example", ["sara@example.com"])]
    assert message["Message-ID"] == out["message_id"]
    assert out["message_id"].endswith("@shop.example>")
    assert message["In-Reply-To"] == "<q-1@mail.example>"
    assert message["References"] == "<q-1@mail.example>"
    assert message["Subject"] == "Re: آسیاب"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == PERSIAN
    html_text = html.get_content()
    assert '<html lang="fa" dir="rtl">' in html_text
    assert '<div lang="fa" dir="rtl">' in html_text
    # Escaped, paragraphs and line breaks kept.
    assert "<p>سلام سارا جان،<br>آسیاب جدید فردا ارسال می‌شود.</p>" in html_text
    assert "<p>با سپاس &lt;تیم خوشنود&gt;</p>" in html_text

    # In the log, on the thread, first response stamped, delivery sent.
    reply = Interaction.objects.get(pk=out["id"])
    assert (reply.direction, reply.channel, reply.source, reply.external_id, reply.staff) == (
        "outbound", "email", "email", out["message_id"], shop.agents["support"]
    )  # fmt: skip
    assert reply.text == PERSIAN
    assert CaseInteraction.objects.get(interaction_id=reply.pk).case_id == case.pk
    case.refresh_from_db()
    assert case.first_responded_at == reply.occurred_at
    assert case.status == "open"
    assert [e.action for e in CaseEvent.objects.filter(case=case)] == [
        "case.opened", "case.first_response", "case.replied"
    ]  # fmt: skip
    delivery = Delivery.objects.get(interaction_id=reply.pk)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    # The case's thread shows the reply (GET /cases/{id}).
    thread = shop.client(shop.agents["support"]).get(f"/api/v1/cases/{case.pk}").json()
    assert thread["interaction_ids"] == [earlier.id, reply.pk]


def test_a_second_reply_references_the_whole_thread_and_chinese_stays_readable(
    shop: Shop, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    shop.customer.locale = "zh-hans"
    shop.customer.save()
    case = _case(shop)
    first = _reply(shop, case.pk, "您好，我们明天发货。", django_capture_on_commit_callbacks).json()
    second = _reply(shop, case.pk, "快递单号：SF123。", django_capture_on_commit_callbacks).json()
    one, two = smtp.messages
    assert "In-Reply-To" not in one  # nothing inbound by email yet
    assert one["Subject"] == "Re: Grinder makes a noise"
    assert two["References"] == first["message_id"]
    assert two.get_body(("plain",)).get_content().strip() == "快递单号：SF123。"
    html = two.get_body(("html",)).get_content()
    assert '<html lang="zh-Hans" dir="ltr">' in html and "快递单号：SF123。" in html
    case.refresh_from_db()
    # The first response is the first reply's time; the second does not move it.
    assert case.first_responded_at == Interaction.objects.get(pk=first["id"]).occurred_at
    assert second["id"] != first["id"]


def test_a_phone_case_is_answered_by_email(
    shop: Shop, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    case = _case(shop, channel="phone")
    resp = _reply(shop, case.pk, "Your grinder ships tomorrow.", django_capture_on_commit_callbacks)
    assert resp.status_code == 201
    assert resp.json()["channel"] == "email"
    [message] = smtp.messages
    assert '<html lang="en" dir="ltr">' in message.get_body(("html",)).get_content()


def test_a_refusing_server_is_retried_then_failed_and_the_reply_kept(
    shop: Shop, refusing_smtp: Refusing, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.KHOSHNUD_DELIVERY_MAX_ATTEMPTS = 3
    case = _case(shop)
    resp = _reply(shop, case.pk, "We are on it.", django_capture_on_commit_callbacks)
    assert resp.status_code == 201
    # The in-process queue runs each retry at once: three tries reached the server.
    assert refusing_smtp.tries == 3
    delivery = Delivery.objects.get(interaction_id=resp.json()["id"])
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "451" in delivery.last_error and "try again later" in delivery.last_error
    assert Interaction.objects.get(pk=resp.json()["id"]).text == "We are on it."
    assert CaseInteraction.objects.filter(case=case).count() == 1
    # The customer's timeline shows the reply and that it failed.
    timeline = shop.client(shop.manager).get(f"/api/v1/customers/{shop.customer.pk}/timeline")
    [item] = [i for i in timeline.json()["items"] if i["id"] == resp.json()["id"]]
    assert item["delivery"] == {"status": "failed", "attempts": 3, "sent_at": None,
                                "last_error": delivery.last_error}  # fmt: skip


def test_a_failed_attempt_is_deferred_with_back_off_on_a_queue_that_can_wait(
    shop: Shop, refusing_smtp: Refusing, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.KHOSHNUD_INTERACTION_PIPELINE = []
    settings.KHOSHNUD_DELIVERY_RETRY_SECONDS = 60
    case = _case(shop)
    resp = _reply(shop, case.pk, "We are on it.", django_capture_on_commit_callbacks)
    interaction_id = resp.json()["id"]
    [first] = DBTaskResult.objects.all()
    assert first.args_kwargs["args"] == [interaction_id]  # run as soon as a worker can
    from khoshnud.channels.services import delivery_attempt

    assert delivery_attempt(interaction_id=interaction_id) == "queued"
    delivery = Delivery.objects.get(interaction_id=interaction_id)
    retry = DBTaskResult.objects.exclude(pk=first.pk).get()
    assert delivery.attempts == 1
    assert retry.run_after == delivery.next_attempt_at
    assert (delivery.next_attempt_at - delivery.updated_at).total_seconds() == pytest.approx(
        60, abs=1
    )
    # 60 s, 120 s, 240 s … at most an hour.
    assert [delivery_retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [
        60, 120, 240, 3600, 3600
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "text: is required"), ("   \n ", "text: is required"),
     ("x" * 20_001, "text: is longer than 20000 characters")],
)  # fmt: skip
def test_empty_or_too_long_text_is_refused_and_nothing_stored(
    shop: Shop, smtp: Inbox, django_capture_on_commit_callbacks: Any, text: str, message: str
) -> None:
    case = _case(shop)
    before = Interaction.objects.count()
    resp = _reply(shop, case.pk, text, django_capture_on_commit_callbacks)
    assert resp.status_code == 422
    assert message in resp.json()["detail"]
    assert Interaction.objects.count() == before and Delivery.objects.count() == 0
    assert smtp.messages == []


def test_a_closed_case_a_messaging_channel_or_no_address_is_refused(
    shop: Shop, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    closed = _case(shop)
    Case.objects.filter(pk=closed.pk).update(status="closed")
    resp = _reply(shop, closed.pk, "Hello", django_capture_on_commit_callbacks)
    assert resp.status_code == 409
    assert resp.json() == {"detail": f"case {closed.pk} is closed; reopen it to reply"}

    chat = _case(shop, channel="chat")
    resp = _reply(shop, chat.pk, "Hello", django_capture_on_commit_callbacks)
    assert resp.status_code == 422
    assert resp.json()["detail"] == (
        "channel: replies by chat are not sent yet; channels that can send: "
        "email, instagram, sms, telegram, wechat, whatsapp"
    )
    # SMS goes out through the gateway (docs/channels.md), to a phone number the customer has.
    sms = _case(shop, channel="sms")
    resp = _reply(shop, sms.pk, "Hello", django_capture_on_commit_callbacks)
    assert resp.status_code == 422
    assert resp.json()["detail"] == (
        f"customer: customer #{shop.customer.pk} has no sms address to reply to"
    )
    # A Telegram case whose customer never wrote on Telegram has no chat to answer in.
    telegram = _case(shop, channel="telegram")
    resp = _reply(shop, telegram.pk, "Hello", django_capture_on_commit_callbacks)
    assert resp.status_code == 422
    assert resp.json()["detail"] == (
        f"customer: customer #{shop.customer.pk} has no telegram address to reply to"
    )

    nomail = customer_create(data={"first_name": "Reza", "identities": {"phone": "09121112233"}})
    case = case_open(customer_id=nomail.pk, kind="support", channel="phone")
    resp = _reply(shop, case.pk, "Hello", django_capture_on_commit_callbacks)
    assert resp.status_code == 422
    assert (
        resp.json()["detail"] == f"customer: customer #{nomail.pk} has no email address to reply to"
    )
    assert Interaction.objects.filter(direction="outbound").count() == 0
    assert smtp.messages == []


def test_only_the_cases_team_may_reply(
    shop: Shop, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    case = _case(shop)
    resp = _reply(shop, case.pk, "Hello", django_capture_on_commit_callbacks, user="care")
    assert resp.status_code == 403
    assert _reply(shop, 999_999, "Hello", django_capture_on_commit_callbacks).status_code == 404
    assert smtp.messages == [] and Interaction.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("سلام", "en", '<html lang="fa" dir="rtl">'),  # a customer made from an address
        ("Hello", "fa", '<html lang="en" dir="ltr">'),
        ("123 سلام", "zh-hans", '<html lang="fa" dir="rtl">'),  # digits are not strong
        ("您好", "en", '<html lang="zh-Hans" dir="ltr">'),
        ("Hello 您好", "zh-hans", '<html lang="zh-Hans" dir="ltr">'),
        ("Hello", "en", '<html lang="en" dir="ltr">'),
    ],
)
def test_the_html_part_takes_lang_and_direction_from_the_text_when_it_disagrees(
    text: str, locale: str, expected: str
) -> None:
    from khoshnud.channels.email_outbound import html_body

    assert expected in html_body(text, locale)


def test_a_reply_whose_task_was_lost_is_sent_by_deliveries_resume(
    shop: Shop, smtp: Inbox, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    # A queue that keeps nothing: the delivery's task is lost.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    case = _case(shop)
    reply_id = _reply(
        shop, case.pk, "Lost, then found.", django_capture_on_commit_callbacks
    ).json()["id"]
    assert smtp.messages == [] and Delivery.objects.get(interaction_id=reply_id).status == "queued"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    out = StringIO()
    call_command("deliveries_resume", stdout=out)  # 15 minutes: not overdue yet
    assert out.getvalue().strip() == "0 delivery(ies) enqueued again" and smtp.messages == []
    call_command("deliveries_resume", "--minutes", "0", stdout=out)
    assert "1 delivery(ies) enqueued again" in out.getvalue()
    [message] = smtp.messages
    assert message.get_body(("plain",)).get_content().strip() == "Lost, then found."
    assert Delivery.objects.get(interaction_id=reply_id).status == "sent"
    # Run again: nothing is queued, nothing sent twice.
    call_command("deliveries_resume", "--minutes", "0", stdout=out)
    assert len(smtp.messages) == 1
    with pytest.raises(CommandError, match="must not be negative"):
        call_command("deliveries_resume", "--minutes", "-1")
