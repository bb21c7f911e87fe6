"""Feedback fixtures: a customer with an email address, an NPS survey with a "why?"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from khoshnud.customers.models import Customer
from khoshnud.customers.services import customer_create
from khoshnud.feedback.models import Survey
from khoshnud.feedback.surveys import survey_create

NPS_TEXTS = {
    "en": "How likely are you to recommend us to a friend?",
    "fa": "چقدر احتمال دارد ما را به دوستانتان پیشنهاد کنید؟",
    "zh-hans": "您向朋友推荐我们的可能性有多大？",
}
WHY_TEXTS = {"en": "Why?", "fa": "چرا؟", "zh-hans": "为什么？"}


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    yield
    translation.deactivate()


@pytest.fixture
def customer(db: object) -> Customer:
    return customer_create(
        data={
            "first_name": "Sara",
            "locale": "fa",
            "time_zone": "Asia/Tehran",
            "identities": {"email": ["sara@example.com"]},
        }
    )


@pytest.fixture
def nps_survey(db: object) -> Survey:
    return survey_create(
        name="After service",
        titles={"en": "How did we do?", "fa": "چطور بودیم؟", "zh-hans": "我们做得怎么样？"},
        questions=[
            {"kind": "nps", "texts": NPS_TEXTS, "comment_texts": WHY_TEXTS},
            {
                "kind": "csat",
                "texts": {"en": "How satisfied are you?", "fa": "چقدر راضی هستید؟",
                          "zh-hans": "您满意吗？"},
                "required": False,
            },
        ],
    )  # fmt: skip
