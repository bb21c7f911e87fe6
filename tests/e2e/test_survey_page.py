"""In a real browser, on a phone-sized screen: a customer answers a survey from the link in
their email — one tap on a score in the email, then the "why?" and the rest — in Persian
(right to left, Persian digits) and in Chinese; a used link gets the friendly page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from khoshnud.customers.services import customer_create
from khoshnud.feedback.invitations import invitation_create
from khoshnud.feedback.models import Invitation, SurveyResponse
from khoshnud.feedback.surveys import survey_create
from khoshnud.interactions.models import Interaction
from tests.feedback.conftest import NPS_TEXTS, WHY_TEXTS

pytestmark = pytest.mark.e2e

COMMENTS = {
    "fa": "ارسال سریع بود، ولی بسته‌بندی <b>آسیب</b> دیده بود",
    "zh-hans": "送货很快，客服很耐心 <i>谢谢</i>",
}
LABELS = {
    "fa": {"thanks": "سپاسگزاریم!", "saved": "امتیاز شما ثبت شد", "used": "پیش‌تر پاسخ داده‌اید",
           "score": "۹", "choice": "قیمت"},
    "zh-hans": {"thanks": "谢谢！", "saved": "您的评分已保存", "used": "您已经回答过了",
                "score": "9", "choice": "价格"},
}  # fmt: skip


def _survey() -> Any:
    return survey_create(
        name="After service",
        titles={"en": "How did we do?", "fa": "چطور بودیم؟", "zh-hans": "我们做得怎么样？"},
        intros={"fa": "نظر شما به ما کمک می‌کند.", "zh-hans": "您的意见对我们很重要。"},
        questions=[
            {"kind": "nps", "texts": NPS_TEXTS, "comment_texts": WHY_TEXTS},
            {"kind": "ces", "texts": {"en": "It was easy to get help.",
                                      "fa": "گرفتن کمک آسان بود.", "zh-hans": "获得帮助很容易。"}},
            {"kind": "choice", "required": False,
             "texts": {"en": "What matters most?", "fa": "چه چیزی برایتان مهم‌تر است؟",
                       "zh-hans": "您最看重什么？"},
             "choices": [
                 {"value": "price", "texts": {"en": "Price", "fa": "قیمت", "zh-hans": "价格"}},
                 {"value": "speed", "texts": {"en": "Speed", "fa": "سرعت", "zh-hans": "速度"}},
             ]},
        ],
    )  # fmt: skip


@pytest.mark.parametrize("language", ["fa", "zh-hans"])
def test_answer_a_survey_from_the_email(
    language: str,
    live_server: Any,
    transactional_db: Any,
    browser: Any,
    screenshots: Path,
    settings: Any,
) -> None:
    from playwright.sync_api import expect

    settings.KHOSHNUD_PUBLIC_URL = live_server.url
    survey = _survey()
    customer = customer_create(
        data={"first_name": "Sara" if language == "fa" else "芳", "locale": language,
              "identities": {"email": f"c-{language}@example.com"}}
    )  # fmt: skip
    invited = invitation_create(survey_id=survey.pk, customer_id=customer.pk)
    # The email (sent by the queue after commit) carries one link per score.
    [message] = mail.outbox
    links = dict(re.findall(r"^(\S+): (http\S+\?score=\d+)$", message.body, re.M))
    score_label = LABELS[language]["score"]
    assert set(links) >= {score_label}
    name = "fa" if language == "fa" else "zh"
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
        has_touch=True, locale="en-US",
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(10_000)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    # One tap on "9" in the email: the score is saved as the page opens.
    page.goto(links[score_label])
    expect(page.locator(".saved")).to_contain_text(LABELS[language]["saved"])
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl" if language == "fa" else "ltr")
    expect(html).to_have_attribute("lang", language)
    assert SurveyResponse.objects.get().score == 9
    expect(page.locator(".answered strong")).to_have_text(score_label)
    # The rest: the why (with markup, shown as text later), the effort score, a choice.
    [nps_q, ces_q, _choice] = list(survey.questions.all())
    page.fill(f'textarea[name="c{nps_q.pk}"]', COMMENTS[language])
    page.locator(f'input[name="q{ces_q.pk}"][value="6"]').check(force=True)
    page.locator("label.choice", has_text=LABELS[language]["choice"]).click()
    page.screenshot(path=str(screenshots / f"survey-page-{name}.png"), full_page=True)
    page.locator("button.send").click()
    expect(page.locator("h1")).to_have_text(LABELS[language]["thanks"])
    page.screenshot(path=str(screenshots / f"survey-thanks-{name}.png"))
    rows = {r.kind: r for r in SurveyResponse.objects.all()}
    assert rows["nps"].score == 9 and rows["nps"].comment == COMMENTS[language]
    assert rows["ces"].score == 6
    assert rows["custom"].choice == "price"
    assert Invitation.objects.get().answered_at is not None
    # The link is used up: a second visit gets the friendly page, and nothing is added.
    page.goto(invited.url)
    expect(page.locator("h1")).to_contain_text(LABELS[language]["used"])
    page.screenshot(path=str(screenshots / f"survey-used-{name}.png"))
    assert SurveyResponse.objects.count() == 3
    # Two survey answers on the timeline (the one-tap score, then the rest).
    assert Interaction.objects.filter(type="survey_answer").count() == 2
    context.close()
    assert blocked == []
