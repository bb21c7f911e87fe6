"""Inbound email: raw RFC 822 in any charset and MIME structure → an inbound interaction,
quoted replies stripped, threaded onto the case it answers, idempotent on Message-ID."""

from __future__ import annotations

import base64
import quopri
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from khoshnud.cases.models import Case, CaseInteraction
from khoshnud.cases.services import case_open
from khoshnud.channels.email_inbound import email_parse, html_to_text, strip_quoted
from khoshnud.customers.models import Identity
from khoshnud.inputs import InputError
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop
from tests.channels.conftest import Inbox

pytestmark = pytest.mark.django_db

URL = "/api/v1/channels/email/inbound"
PERSIAN = "سلام، آسیاب من هنوز صدا می‌دهد."
# Windows-1256 has Arabic yeh and kaf, not the Persian letters: Persian mail in it uses those.
PERSIAN_1256 = PERSIAN.replace("ی", "ي").replace("ک", "ك")
CHINESE = "你好，我的磨豆机还是很吵。朱镕基"  # 镕 is in GBK, not in GB 2312


def post(client: Client, raw: bytes, capture: Any, content_type: str = "message/rfc822") -> Any:
    with capture(execute=True):
        return client.post(URL, raw, content_type=content_type)


def mail(headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("ascii")
    return head + b"\r\n" + body


def base_headers(**extra: str) -> dict[str, str]:
    headers = {
        "From": "Sara <sara@example.com>",
        "To": "care@shop.example",
        "Subject": "=?utf-8?b?" + base64.b64encode("آسیاب".encode()).decode() + "?=",
        "Date": "Wed, 02 Dec 2026 14:10:00 +0330",
        "Message-ID": "<m-1@mail.example>",
        "MIME-Version": "1.0",
    }
    headers.update(extra)
    return headers


def multipart_fa() -> bytes:
    """multipart/alternative: windows-1256 quoted-printable text, UTF-8 base64 HTML."""
    plain = quopri.encodestring(PERSIAN_1256.encode("cp1256"))
    html = base64.encodebytes(f"<p dir='rtl'>{PERSIAN}</p>".encode())
    body = (
        b"--b1\r\nContent-Type: text/plain; charset=windows-1256\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + plain + b"\r\n"
        b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + html + b"\r\n--b1--\r\n"
    )
    return mail(base_headers(**{"Content-Type": 'multipart/alternative; boundary="b1"'}), body)


def test_a_persian_multipart_email_is_stored_for_its_sender(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    client = shop.client(shop.agents["service"])
    resp = post(client, multipart_fa(), django_capture_on_commit_callbacks)
    assert resp.status_code == 201, resp.content
    out = resp.json()
    assert out["status"] == "created" and out["customer_id"] == shop.customer.pk
    assert (out["message_id"], out["notes"]) == ("<m-1@mail.example>", [])
    stored = Interaction.objects.get(pk=out["id"])
    assert stored.text == PERSIAN_1256  # the plain part, decoded from windows-1256
    assert (stored.source, stored.external_id, stored.channel, stored.direction) == (
        "email", "<m-1@mail.example>", "email", "inbound"
    )  # fmt: skip
    assert stored.occurred_at.isoformat() == "2026-12-02T10:40:00+00:00"
    assert stored.metadata["email"]["subject"] == "آسیاب"
    # The pipeline opened a case for it.
    assert CaseInteraction.objects.get(interaction_id=stored.pk).case.customer_id == (
        shop.customer.pk
    )


@pytest.mark.parametrize("label", ["gb2312", "gbk", "GB2312"])
def test_chinese_in_gb2312_or_gbk_base64_is_decoded(
    shop: Shop, django_capture_on_commit_callbacks: Any, label: str
) -> None:
    body = base64.encodebytes(CHINESE.encode("gbk"))
    raw = mail(base_headers(**{"Content-Type": f"text/plain; charset={label}",
                               "Content-Transfer-Encoding": "base64",
                               "From": "=?utf-8?b?" + base64.b64encode("张伟".encode()).decode()
                               + "?= <wei@example.cn>"}), body)  # fmt: skip
    resp = post(shop.client(shop.manager), raw, django_capture_on_commit_callbacks)
    assert resp.status_code == 201, resp.content
    assert Interaction.objects.get(pk=resp.json()["id"]).text == CHINESE
    # A new customer, found by the From address and named from it.
    identity = Identity.objects.get(kind="email", value="wei@example.cn")
    assert identity.customer_id == resp.json()["customer_id"]
    assert identity.customer.first_name == "张伟"


def test_posting_the_same_message_twice_stores_it_once(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    client = shop.client(shop.manager)
    first = post(client, multipart_fa(), django_capture_on_commit_callbacks)
    again = post(client, multipart_fa(), django_capture_on_commit_callbacks, "text/plain")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "duplicate"
    assert Interaction.objects.filter(source="email").count() == 1


def test_without_a_message_id_one_is_made_from_the_bytes_and_noted(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    headers = base_headers(**{"Content-Type": "text/plain; charset=utf-8"})
    del headers["Message-ID"]
    raw = mail(headers, "بدون شناسه".encode())
    client = shop.client(shop.manager)
    first = post(client, raw, django_capture_on_commit_callbacks)
    assert first.status_code == 201
    assert first.json()["message_id"].endswith("@generated.khoshnud.invalid>")
    assert first.json()["notes"] == [
        "no Message-ID: one was made from the SHA-256 of the raw message"
    ]
    again = post(client, raw, django_capture_on_commit_callbacks)
    assert again.json()["status"] == "duplicate" and again.json()["id"] == first.json()["id"]
    stored = Interaction.objects.get(pk=first.json()["id"])
    assert stored.text == "بدون شناسه"
    assert stored.metadata["email"]["notes"] == first.json()["notes"]


def test_an_unknown_charset_is_stored_with_replacement_characters_and_a_note(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    raw = mail(base_headers(**{"Content-Type": "text/plain; charset=x-klingon",
                               "Content-Transfer-Encoding": "8bit"}),
               b"Qapla\xff\xfe ok")  # fmt: skip
    resp = post(shop.client(shop.manager), raw, django_capture_on_commit_callbacks)
    assert resp.status_code == 201
    assert resp.json()["notes"] == [
        "unknown charset 'x-klingon': decoded as UTF-8, unreadable bytes replaced by �"
    ]
    assert Interaction.objects.get(pk=resp.json()["id"]).text == "Qapla�� ok"


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"", "body: is empty: send the raw message (RFC 822) as the body"),
        (b"\x00\xff\xfe garbage \x80", "From: no sender address"),
        (b'{"text": "hello"}', "From: no sender address"),
        (b"From: not an address\r\n\r\nhi", "From: no sender address"),
        (b"From: x@\r\n\r\nhi", "From: no sender address"),
        (b"From: Sara <sara@@example>\r\n\r\nhi", "email"),
    ],
)
def test_garbage_is_refused_with_json_and_nothing_stored(
    shop: Shop, django_capture_on_commit_callbacks: Any, raw: bytes, detail: str
) -> None:
    resp = post(shop.client(shop.manager), raw, django_capture_on_commit_callbacks)
    assert resp.status_code == 422, resp.content
    assert resp["Content-Type"].startswith("application/json")
    assert detail in resp.json()["detail"]
    assert Interaction.objects.count() == 0


def test_a_read_token_may_not_post_mail(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    client = shop.client(shop.manager, scopes="read")
    assert post(client, multipart_fa(), django_capture_on_commit_callbacks).status_code == 403
    assert Interaction.objects.count() == 0


def test_a_reply_to_our_message_joins_the_case_it_answers(
    shop: Shop, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    """A phone case answered by email; the customer answers 10 days later (outside the attach
    window): the answer joins that case by its In-Reply-To, not a new one."""
    case = case_open(customer_id=shop.customer.pk, kind="support", channel="phone",
                     opened_at="2026-12-02T14:00:00+03:30")  # fmt: skip
    agent = shop.client(shop.agents["support"])
    with django_capture_on_commit_callbacks(execute=True):
        reply = agent.post(f"/api/v1/cases/{case.pk}/replies", {"text": "Send us a video?"},
                           content_type="application/json").json()  # fmt: skip
    [sent] = smtp.messages
    body = (
        b"Here it is.\r\n\r\nOn Wed, Dec 2, 2026 at 2:30 PM Khoshnud coffee <\r\n"
        b"care@shop.example> wrote:\r\n> Send us a video?\r\n"
    )
    answer = mail(base_headers(**{
        "Message-ID": "<answer-1@mail.example>", "In-Reply-To": sent["Message-ID"],
        "References": sent["Message-ID"], "Date": "Sat, 12 Dec 2026 09:00:00 +0330",
        "Subject": "Re: Grinder", "Content-Type": "text/plain; charset=utf-8"}), body)  # fmt: skip
    resp = post(agent, answer, django_capture_on_commit_callbacks)
    assert resp.status_code == 201
    stored = Interaction.objects.get(pk=resp.json()["id"])
    assert stored.text == "Here it is."
    assert stored.metadata["email"]["in_reply_to"] == reply["message_id"]
    assert CaseInteraction.objects.get(interaction_id=stored.pk).case_id == case.pk
    assert Case.objects.count() == 1
    case.refresh_from_db()
    assert case.last_message_at == stored.occurred_at

    # The same text without the threading headers, 10 days later: a new case of its own.
    lone = mail(base_headers(**{"Message-ID": "<lone@mail.example>",
                                "Date": "Sat, 12 Dec 2026 09:05:00 +0330",
                                "Content-Type": "text/plain; charset=utf-8"}),
                b"Another question")  # fmt: skip
    lone_id = post(agent, lone, django_capture_on_commit_callbacks).json()["id"]
    assert CaseInteraction.objects.get(interaction_id=lone_id).case_id != case.pk
    assert Case.objects.count() == 2


def test_a_reply_to_a_closed_case_does_not_join_it(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    client = shop.client(shop.manager)
    first_id = post(client, multipart_fa(), django_capture_on_commit_callbacks).json()["id"]
    first_case = CaseInteraction.objects.get(interaction_id=first_id).case_id
    Case.objects.filter(pk=first_case).update(status="closed")
    answer = mail(base_headers(**{"Message-ID": "<m-2@mail.example>",
                                  "In-Reply-To": "<m-1@mail.example>",
                                  "Content-Type": "text/plain; charset=utf-8"}), b"again")  # fmt: skip
    second_id = post(client, answer, django_capture_on_commit_callbacks).json()["id"]
    assert CaseInteraction.objects.get(interaction_id=second_id).case_id != first_case


@pytest.mark.parametrize(
    ("text", "new_part"),
    [
        ("Thanks!\n\nOn Tue, 1 Dec 2026, Shop <care@shop.example> wrote:\n> old\n> older",
         "Thanks!"),
        ("ممنون\n\nدر تاریخ سه‌شنبه ۱ دسامبر ۲۰۲۶، فروشگاه <care@shop.example> نوشت:\n> قدیمی",
         "ممنون"),
        ("谢谢\n\n在 2026年12月1日 周二，商店 <care@shop.example> 写道：\n> 旧的", "谢谢"),
        ("ok\n-----Original Message-----\nFrom: shop\nold text", "ok"),
        ("line one\n> quoted in the middle\nline two", "line one\nline two"),
        ("My friend wrote: it works.\nIt does not.", "My friend wrote: it works.\nIt does not."),
    ],
)  # fmt: skip
def test_quoted_replies_are_stripped(text: str, new_part: str) -> None:
    assert strip_quoted(text) == new_part


def test_html_only_mail_becomes_text_without_its_quote() -> None:
    markup = (
        "<html><head><style>p{}</style></head><body><div>Hello&nbsp;there,</div>"
        "<p>the grinder <b>still</b> hums.</p><blockquote>old message</blockquote>"
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(markup) == "Hello there,\n\nthe grinder still hums."


HEADER_STARTS = [
    b"From: ",
    b"Message-ID: ",
    b"Date: ",
    b"In-Reply-To: ",
    b"References: ",
    b"Subject: =?",
    b"Content-Type: text/plain; charset=",
    b"Content-Type: multipart/mixed; boundary=",
    b"Content-Transfer-Encoding: ",
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    head=st.lists(
        st.sampled_from(HEADER_STARTS),
        max_size=6,
    ),
    values=st.lists(st.binary(max_size=40), max_size=6),
    body=st.binary(max_size=200),
    sender=st.sampled_from([b"", b"From: s@example.com\r\n"]),
)
def test_any_bytes_are_read_or_refused_with_a_message_never_a_crash(
    head: list[bytes], values: list[bytes], body: bytes, sender: bytes
) -> None:
    raw = (
        sender
        + b"".join(h + v + b"\r\n" for h, v in zip(head, values, strict=False))
        + b"\r\n"
        + body
    )
    try:
        parsed = email_parse(raw)
    except InputError as exc:
        assert str(exc)
    else:
        assert "@" in parsed.sender and parsed.message_id.startswith("<")
        parsed.text.encode("utf-8")  # storable: no lone surrogate
