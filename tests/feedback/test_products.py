"""The product of a survey answer: an imported answer's own SKU (an unknown one rejects that
event, with the field's name, and stores nothing of it); an after-purchase invitation's order
(its first line's product); else the answer's case's product (docs/metrics.md, "Product")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from khoshnud.commerce.models import Order, OrderLine, Product
from khoshnud.feedback.answers import PageAnswer, answers_record
from khoshnud.feedback.models import Invitation, SurveyResponse, Trigger
from khoshnud.feedback.surveys import survey_create
from khoshnud.feedback.triggers import triggers_sweep
from khoshnud.interactions.models import Interaction
from tests.cases.conftest import Shop, shop  # noqa: F401  (the fixture)
from tests.feedback.test_metrics import answer, post

pytestmark = pytest.mark.django_db


def _product(sku: str, name: str) -> Product:
    return Product.objects.create(sku=sku, name=name, category="c", price=Decimal("5.00"),
                                  currency="USD")  # fmt: skip


def test_an_imported_answer_names_its_product(api_client: Any) -> None:
    beans = _product("BNS-1", "Espresso beans")
    body = post(api_client(), [answer(1, "csat", 5, product="BNS-1"), answer(2, "csat", 4)])
    assert body["created"] == 2
    stored = dict(SurveyResponse.objects.values_list("score", "product_id"))
    assert stored == {5: beans.pk, 4: None}


def test_an_unknown_sku_rejects_that_answer_only(api_client: Any) -> None:
    body = post(api_client(), [answer(1, "nps", 9), answer(2, "nps", 0, product="NOPE")])
    assert (body["created"], body["rejected"]) == (1, 1)
    error = body["results"][1]["error"]
    assert "survey.product" in error and "NOPE" in error
    assert SurveyResponse.objects.count() == 1 and Interaction.objects.count() == 1


def test_an_after_purchase_answer_is_about_the_order(shop: Shop) -> None:  # noqa: F811
    now = timezone.now()
    grinder, kettle = _product("GRD-1", "Burr grinder"), _product("KTL-1", "Kettle")
    survey = survey_create(
        name="After purchase", trigger=Trigger.PURCHASE, delay_days=7,
        questions=[{"kind": "csat", "texts": {"en": "Happy with your order?"}}],
    )  # fmt: skip
    order = Order.objects.create(customer=shop.customer, number="A-1", currency="USD",
                                 placed_at=now - dt.timedelta(days=8), total=Decimal("10.00"))  # fmt: skip
    for item in (grinder, kettle):  # the grinder first: the order is about it
        OrderLine.objects.create(order=order, product=item, quantity=1, unit_price=item.price)
    assert triggers_sweep(now=now).invited == 1
    invitation = Invitation.objects.get()
    assert (invitation.reason, invitation.order_id) == ("purchase", order.pk)
    [question] = list(survey.questions.all())
    answers_record(invitation_id=invitation.pk, answers=[PageAnswer(question, score=4)],
                   final=True)  # fmt: skip
    assert SurveyResponse.objects.get().product_id == grinder.pk
