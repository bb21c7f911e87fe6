"""Invitations by the API: the link, the email with score links, the fatigue rule, and the
public page taking one answer once."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from khoshnud.channels.models import Delivery
from khoshnud.feedback.invitations import invitation_create
from khoshnud.feedback.models import Invitation, SurveyResponse
from khoshnud.interactions.models import Interaction, InteractionType

pytestmark = pytest.mark.django_db


def invite(client: Client, survey_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/surveys/{survey_id}/invitations",
        data=json.dumps(body),
        content_type="application/json",
    )


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_invitation_link_email_and_log(  # type: ignore[no-untyped-def]
    api_client, customer, nps_survey, django_capture_on_commit_callbacks
) -> None:
    client = api_client()
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, nps_survey.pk, {"customer_id": customer.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sent_by"] == "email" and "/s/" in body["url"]
    token = body["url"].rstrip("/").rsplit("/", 1)[1]
    # The token is not stored: the database holds only the secret the HMAC is made from.
    assert not Invitation.objects.filter(secret__contains=token.split(".")[1]).exists()
    # The email went out (tasks run at commit in tests) with one link per score 0–10.
    [message] = mail.outbox
    assert message.to == ["sara@example.com"]
    html = message.alternatives[0][0]
    assert 'dir="rtl"' in html and "۱۰" in html  # Persian customer: RTL, Persian digits
    for score in range(11):
        assert f"{path_of(body['url'])}?score={score}" in message.body
    # Logged as an outbound interaction whose text holds no working link.
    logged = Interaction.objects.get(type=InteractionType.NOTIFICATION)
    assert logged.direction == "outbound" and logged.customer_id == customer.pk
    assert token not in logged.text and token not in json.dumps(logged.metadata)
    assert Delivery.objects.get(interaction_id=logged.pk).status == "sent"


def test_fatigue_rule_refuses_and_names_itself(  # type: ignore[no-untyped-def]
    api_client, customer, nps_survey, django_capture_on_commit_callbacks
) -> None:
    client = api_client()
    with django_capture_on_commit_callbacks(execute=True):
        assert invite(client, nps_survey.pk, {"customer_id": customer.pk}).status_code == 201
        again = invite(client, nps_survey.pk, {"customer_id": customer.pk})
    assert again.status_code == 409
    assert again.json()["rule"] == "fatigue"
    assert "fatigue rule" in again.json()["detail"] and "30 days" in again.json()["detail"]
    assert Invitation.objects.count() == 1 and len(mail.outbox) == 1


def test_fatigue_spans_surveys_and_ends(customer, nps_survey) -> None:  # type: ignore[no-untyped-def]
    from khoshnud.feedback.invitations import FatigueRefused
    from khoshnud.feedback.surveys import survey_create

    other = survey_create(name="CES", questions=[{"kind": "ces", "texts": {"en": "Easy?"}}])
    start = timezone.now() - dt.timedelta(days=40)
    invitation_create(survey_id=nps_survey.pk, customer_id=customer.pk, now=start)
    with pytest.raises(FatigueRefused):  # day 29 after: still inside 30 days
        invitation_create(
            survey_id=other.pk, customer_id=customer.pk, now=start + dt.timedelta(days=29)
        )
    invitation_create(
        survey_id=other.pk, customer_id=customer.pk, now=start + dt.timedelta(days=31)
    )
    assert Invitation.objects.count() == 2


def test_invitation_refusals(api_client, customer) -> None:  # type: ignore[no-untyped-def]
    from khoshnud.feedback.models import Survey

    client = api_client()
    empty = Survey.objects.create(name="empty")
    response = invite(client, empty.pk, {"customer_id": customer.pk})
    assert response.status_code == 422 and "has no question" in response.json()["detail"]
    assert invite(client, 999999, {"customer_id": customer.pk}).status_code == 404
    assert invite(client, empty.pk, {"customer_id": 999999}).status_code in (404, 422)
    assert (
        invite(api_client(scopes="read"), empty.pk, {"customer_id": customer.pk}).status_code == 403
    )
    assert Invitation.objects.count() == 0


def test_survey_without_question_refused_by_api(api_client) -> None:  # type: ignore[no-untyped-def]
    manager = api_client(role="manager")
    response = manager.post(
        "/api/v1/surveys",
        data=json.dumps({"name": "x", "questions": []}),
        content_type="application/json",
    )
    assert response.status_code == 422 and "at least one question" in response.json()["detail"]
    choice = {"kind": "choice", "texts": {"en": "Why?"}, "choices": [{"value": "a"}]}
    response = manager.post(
        "/api/v1/surveys",
        data=json.dumps({"name": "x", "questions": [choice]}),
        content_type="application/json",
    )
    assert response.status_code == 422 and "two or more" in response.json()["detail"]
    from khoshnud.feedback.models import Survey

    assert Survey.objects.count() == 0


def test_what_postgresql_refuses_is_refused_by_name_on_both_databases(api_client) -> None:  # type: ignore[no-untyped-def]
    # Found by the API fuzzer on PostgreSQL: a NUL in the name or a text, or a scale beyond a
    # small integer, answered 500 there (SQLite stored it). Now: 422 naming the field, nothing
    # stored, on both.
    from khoshnud.feedback.models import Survey

    manager = api_client(role="manager")
    nps = {"kind": "nps", "texts": {"en": "Would you recommend us?"}}
    bad = [
        ({"name": "a\x00b", "questions": [nps]}, "name"),
        ({"name": "ok", "titles": {"en": "t\x00"}, "questions": [nps]}, "titles"),
        ({"name": "ok", "questions": [{**nps, "texts": {"en": "x\x00"}}]}, "questions[0].texts"),
        ({"name": "ok", "questions": [{"kind": "scale", "texts": {"en": "How?"},
                                       "scale_min": 0, "scale_max": 1209690}]},
         "questions[0].scale_max"),
    ]  # fmt: skip
    for body, field in bad:
        response = manager.post(
            "/api/v1/surveys", data=json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 422, (field, response.content)
        assert response.json()["detail"].startswith(field), response.json()
    assert Survey.objects.count() == 0


@override_settings(KHOSHNUD_PUBLIC_URL="")
def test_page_takes_one_answer_once(customer, nps_survey) -> None:  # type: ignore[no-untyped-def]
    invited = invitation_create(survey_id=nps_survey.pk, customer_id=customer.pk, send=False)
    assert invited.sent_by is None
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(invited.url)
    assert page.status_code == 200
    assert 'dir="rtl"' in page.content.decode() and "۱۰" in page.content.decode()
    csrf = browser.cookies["csrftoken"].value
    [nps_q, _csat_q] = list(nps_survey.questions.all())
    form = {
        "csrfmiddlewaretoken": csrf,
        "action": "final",
        f"q{nps_q.pk}": "۹",  # Persian digits are read as 9
        f"c{nps_q.pk}": "<script>alert(1)</script> خیلی خوب",
    }
    done = browser.post(invited.url, form)
    assert done.status_code == 200, done.content.decode()[:500]
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score, response.source) == ("nps", 9, "page")
    assert response.comment.startswith("<script>")  # stored as text…
    # …and an inbound survey answer interaction on the timeline.
    answer = Interaction.objects.get(type=InteractionType.SURVEY_ANSWER)
    assert answer.direction == "inbound" and answer.customer_id == customer.pk
    assert response.interaction_id == answer.pk
    # A second answer with the same link: refused politely, nothing counted twice.
    second = browser.post(invited.url, {**form, f"q{nps_q.pk}": "0"})
    assert second.status_code == 409
    assert "already answered" in second.content.decode() or "پاسخ" in second.content.decode()
    assert SurveyResponse.objects.count() == 1
    assert Interaction.objects.filter(type=InteractionType.SURVEY_ANSWER).count() == 1


def test_markup_in_a_comment_is_shown_as_text(customer, nps_survey) -> None:  # type: ignore[no-untyped-def]
    invited = invitation_create(survey_id=nps_survey.pk, customer_id=customer.pk, send=False)
    browser = Client()
    [nps_q, _csat] = list(nps_survey.questions.all())
    # A bad score with a comment: the page comes back with the comment escaped.
    back = browser.post(
        invited.url + "?lang=en",
        {"action": "final", f"q{nps_q.pk}": "11", f"c{nps_q.pk}": "<b>bold</b>"},
    )
    assert back.status_code == 400
    html = back.content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "score from 0 to 10" in html
    assert SurveyResponse.objects.count() == 0


def test_expired_and_invalid_links(customer, nps_survey) -> None:  # type: ignore[no-untyped-def]
    past = timezone.now() - dt.timedelta(days=60)
    invited = invitation_create(
        survey_id=nps_survey.pk, customer_id=customer.pk, send=False, now=past
    )
    browser = Client()
    expired = browser.get(invited.url + "?lang=en")
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    [nps_q, _csat] = list(nps_survey.questions.all())
    posted = browser.post(invited.url, {"action": "final", f"q{nps_q.pk}": "9"})
    assert posted.status_code == 410
    token = invited.url.rstrip("/").rsplit("/", 1)[1]
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert browser.get(invited.url.replace(token, forged)).status_code == 404
    assert browser.get("/s/not-a-token/").status_code == 404
    assert SurveyResponse.objects.count() == 0


def test_one_tap_score_then_the_rest(customer, nps_survey) -> None:  # type: ignore[no-untyped-def]
    invited = invitation_create(survey_id=nps_survey.pk, customer_id=customer.pk, send=False)
    browser = Client()
    [nps_q, csat_q] = list(nps_survey.questions.all())
    page = browser.get(invited.url + "?score=10&lang=zh-hans")
    html = page.content.decode()
    assert 'id="one-tap"' in html and 'lang="zh-hans"' in html
    # What survey.js submits on load: the first score alone.
    first = browser.post(invited.url, {"action": "first", f"q{nps_q.pk}": "10"})
    assert first.status_code == 302
    assert SurveyResponse.objects.get().score == 10
    # A second tap (another score) changes nothing.
    browser.post(invited.url, {"action": "first", f"q{nps_q.pk}": "2"})
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [10]
    # Then the rest: the "why?" joins the first answer, the CSAT is new.
    done = browser.post(
        invited.url,
        {"action": "final", f"c{nps_q.pk}": "服务很好", f"q{csat_q.pk}": "5"},
    )
    assert done.status_code == 200
    rows = dict(SurveyResponse.objects.values_list("kind", "comment"))
    assert rows == {"nps": "服务很好", "csat": ""}
    assert Invitation.objects.get().answered_at is not None


@override_settings(KHOSHNUD_SURVEY_PAGE_RATE=3)
def test_page_is_rate_limited(customer, nps_survey) -> None:  # type: ignore[no-untyped-def]
    invited = invitation_create(survey_id=nps_survey.pk, customer_id=customer.pk, send=False)
    browser = Client()
    codes = [browser.get(invited.url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert browser.get("/s/1.guess/").status_code == 429


def test_a_comment_is_classified_like_any_message(  # type: ignore[no-untyped-def]
    customer, nps_survey, django_capture_on_commit_callbacks
) -> None:
    from khoshnud.language.models import MessageAnalysis

    invited = invitation_create(survey_id=nps_survey.pk, customer_id=customer.pk, send=False)
    [nps_q, _csat] = list(nps_survey.questions.all())
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            invited.url,
            {
                "action": "final",
                f"q{nps_q.pk}": "2",
                f"c{nps_q.pk}": "سفارشم خراب رسید، خیلی ناراحتم",
            },
        )
    answer = Interaction.objects.get(type=InteractionType.SURVEY_ANSWER)
    analysis = MessageAnalysis.objects.get(interaction_id=answer.pk)
    assert analysis.language == "fa" and analysis.sentiment == "negative"
