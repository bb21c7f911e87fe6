"""WeChat official account: the signature of token, timestamp and nonce, plain-mode XML, and
customer-service replies with the access token cached and refreshed, against a local server
playing api.weixin.qq.com (its errcode bodies)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from khoshnud.cases.models import Case
from khoshnud.channels.models import ChannelAccount, Delivery
from khoshnud.channels.webhooks import wechat_signature
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop
from tests.channels.messaging_helpers import add_account, hook_path
from tests.channels.providers import FakeProvider

pytestmark = pytest.mark.django_db


def test_the_signature_matches_a_vector_computed_with_sha1sum() -> None:
    # printf '%s' "1700000000nonce-1wechat-token" | sha1sum   (the three sorted, joined)
    assert wechat_signature("wechat-token", "1700000000", "nonce-1") == (
        "dea9f5a3b3de9d22fa1a8c409a4a1f99ff4ee56d"
    )


def query(token: str = "wechat-token", **extra: str) -> str:
    params = {"timestamp": "1700000000", "nonce": "nonce-1",
              "signature": wechat_signature(token, "1700000000", "nonce-1")} | extra  # fmt: skip
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


def xml(
    msg_id: str = "24012345678901234", content: str = "你好，我的咖啡机坏了", ago: int = 60
) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_1a2b3c4d5e6f]]></ToUserName>"
        "<FromUserName><![CDATA[oAbCd1234567890_openid]]></FromUserName>"
        f"<CreateTime>{int(time.time()) - ago}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def post(path: str, body: bytes, capture: Any) -> Any:
    with capture(execute=True):
        return Client(enforce_csrf_checks=True).post(path, body, content_type="text/xml")


def test_the_echostr_check_and_signed_messages_stored_once(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    account = add_account("wechat")
    path = hook_path(account)
    ok = Client().get(path + query(echostr="5837397520665436492"))
    assert (ok.status_code, ok.content) == (200, b"5837397520665436492")
    assert Client().get(path + query(token="wrong", echostr="1")).status_code == 403
    assert Client().get(path + "?echostr=1&timestamp=1&nonce=2").status_code == 401

    assert post(path + query(token="wrong"), xml(), cap).status_code == 403
    assert post(path, xml(), cap).status_code == 401
    assert Interaction.objects.count() == 0
    first = post(path + query(), xml(), cap)
    assert (first.status_code, first.content) == (200, b"success")
    assert post(path + query(), xml(), cap).content == b"success"
    [message] = Interaction.objects.all()
    assert message.external_id == f"{account['id']}:24012345678901234"
    assert message.text == "你好，我的咖啡机坏了"
    assert message.metadata["wechat"]["reply_to"] == "oAbCd1234567890_openid"
    assert list(message.customer.identities.values_list("kind", "value")) == [
        ("wechat", "oAbCd1234567890_openid")]  # fmt: skip
    assert Case.objects.get().channel == "wechat"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<xml><MsgType>text", "not well-formed XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
         "DTD"),
        (b"<xml><Content>no type</Content></xml>", "MsgType and FromUserName"),
        (b"<notxml/>", "<xml>"),
    ],
)  # fmt: skip
def test_malformed_xml_is_refused_and_nothing_stored(
    shop: Shop, django_capture_on_commit_callbacks: Any, body: bytes, detail: str
) -> None:
    path = hook_path(add_account("wechat"))
    resp = post(path + query(), body, django_capture_on_commit_callbacks)
    assert resp.status_code == 400
    assert detail in resp.json()["detail"]
    assert Interaction.objects.count() == 0


def test_events_are_acknowledged_and_skipped(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    path = hook_path(add_account("wechat"))
    body = (b"<xml><ToUserName>gh_1</ToUserName><FromUserName>oX</FromUserName>"
            b"<CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>")  # fmt: skip
    resp = post(path + query(), body, django_capture_on_commit_callbacks)
    assert resp.content == b"success"
    assert Interaction.objects.count() == 0


TOKEN_OK = {"access_token": "ACCESS_TOKEN_1", "expires_in": 7200}
SENT = {"errcode": 0, "errmsg": "ok"}


def _case(shop: Shop, cap: Any) -> Case:
    post(hook_path(add_account("wechat")) + query(), xml(), cap)
    return Case.objects.get()


def _reply(shop: Shop, case: Case, text: str, cap: Any) -> Any:
    with cap(execute=True):
        return shop.client(shop.manager).post(
            f"/api/v1/cases/{case.pk}/replies", {"text": text}, content_type="application/json"
        )


def test_replies_fetch_the_access_token_once_and_reuse_it(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    case = _case(shop, cap)
    provider.default = {"/cgi-bin/token": TOKEN_OK, "/cgi-bin/message/custom/send": SENT}
    assert _reply(shop, case, "您好，我们明天寄出新的咖啡机。", cap).status_code == 201
    assert _reply(shop, case, "还有别的问题吗？", cap).status_code == 201
    paths = [(r.method, r.path) for r in provider.requests]
    assert paths == [("GET", "/cgi-bin/token"), ("POST", "/cgi-bin/message/custom/send"),
                     ("POST", "/cgi-bin/message/custom/send")]  # fmt: skip
    token_request = provider.requests[0]
    assert token_request.query == {"grant_type": "client_credential",
                                   "appid": "wx1234567890abcdef", "secret": "wechat-app-secret"}  # fmt: skip
    send = provider.requests[1]
    assert send.query == {"access_token": "ACCESS_TOKEN_1"}
    assert send.body == {"touser": "oAbCd1234567890_openid", "msgtype": "text",
                         "text": {"content": "您好，我们明天寄出新的咖啡机。"}}  # fmt: skip
    assert [d.status for d in Delivery.objects.order_by("id")] == ["sent", "sent"]
    account = ChannelAccount.objects.get()
    assert "ACCESS_TOKEN_1" not in account.access_token_encrypted  # cached encrypted


def test_a_stale_token_is_fetched_again_and_the_message_sent(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    case = _case(shop, cap)
    provider.answer("/cgi-bin/token", 200, TOKEN_OK)
    provider.answer("/cgi-bin/message/custom/send", 200,
                    {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"})  # fmt: skip
    provider.answer("/cgi-bin/token", 200, {"access_token": "ACCESS_TOKEN_2", "expires_in": 7200})
    provider.answer("/cgi-bin/message/custom/send", 200, SENT)
    resp = _reply(shop, case, "好的", cap)
    delivery = Delivery.objects.get(interaction_id=resp.json()["id"])
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert [r.query.get("access_token") for r in provider.requests if "send" in r.path] == [
        "ACCESS_TOKEN_1", "ACCESS_TOKEN_2"]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "outcome", "error"),
    [
        ([("/cgi-bin/token", {"errcode": 40013, "errmsg": "invalid appid"})], "failed",
         "WeChat token 40013: invalid appid"),
        ([("/cgi-bin/token", TOKEN_OK), ("/cgi-bin/message/custom/send",
           {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"})],
         "failed", "WeChat send 45015"),
        ([("/cgi-bin/token", TOKEN_OK), ("/cgi-bin/message/custom/send",
           {"errcode": -1, "errmsg": "system error"}), ("/cgi-bin/message/custom/send", SENT)],
         "sent", ""),
    ],
)  # fmt: skip
def test_wechat_errcodes_fail_for_good_or_retry(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any,
    answers: list[tuple[str, dict[str, Any]]], outcome: str, error: str,
) -> None:  # fmt: skip
    cap = django_capture_on_commit_callbacks
    case = _case(shop, cap)
    for path, body in answers:
        provider.answer(path, 200, body)
    resp = _reply(shop, case, "好的", cap)
    delivery = Delivery.objects.get(interaction_id=resp.json()["id"])
    assert delivery.status == outcome
    assert error in delivery.last_error


def test_a_reply_over_2048_bytes_is_refused(
    shop: Shop, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cap = django_capture_on_commit_callbacks
    case = _case(shop, cap)
    resp = _reply(shop, case, "好" * 683, cap)  # 2,049 bytes in UTF-8
    assert resp.status_code == 422
    assert "2,048 bytes" in resp.json()["detail"] and "2,049" in resp.json()["detail"]
    assert Delivery.objects.count() == 0 and provider.requests == []
