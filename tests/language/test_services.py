"""Classifying stored interactions, the task, and agents' corrections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from khoshnud.accounts.models import AuditLog
from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from khoshnud.language.models import MessageAnalysis
from khoshnud.language.selectors import analyses_for_interactions, corrections_for_training
from khoshnud.language.services import analysis_correct, interactions_classify
from khoshnud.language.tasks import classify_interactions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("use_tiny_models")]


def _interaction(text: str, direction: str = "inbound", n: list[int] = [0]) -> Interaction:  # noqa: B006
    n[0] += 1
    now = timezone.now()
    customer = Customer.objects.create(first_name="T")
    return Interaction.objects.create(
        customer=customer,
        channel="chat",
        direction=direction,
        type="message",
        occurred_at=now,
        text=text,
        source="test",
        external_id=f"s-{n[0]}",
        created_at=now,
    )


def test_classifies_inbound_text_once() -> None:
    inbound = _interaction("服务太差了，我要退款")
    outbound = _interaction("we are sorry", direction="outbound")
    empty = _interaction("")
    ids = [inbound.pk, outbound.pk, empty.pk, 999_999]
    assert interactions_classify(interaction_ids=ids) == 1
    assert interactions_classify(interaction_ids=ids) == 0  # idempotent
    analysis = MessageAnalysis.objects.get()
    assert analysis.interaction_id == inbound.pk
    assert analysis.customer_id == inbound.customer_id
    assert (analysis.language, analysis.need, analysis.sentiment) == ("zh", "care", "negative")
    assert analysis.model_version.startswith("lang2-")
    assert set(analyses_for_interactions(interaction_ids=ids)) == {inbound.pk}


def test_fast_classification_is_marked_as_such(use_tiny_models: Any) -> None:
    row = _interaction("the app crashes when I log in")
    assert interactions_classify(interaction_ids=[row.pk], fast=True) == 1
    analysis = MessageAnalysis.objects.get(interaction_id=row.pk)
    assert analysis.model_version == use_tiny_models.version + "-fast"
    assert analysis.need == "support"


def test_task_calls_the_service() -> None:
    row = _interaction("the app crashes when I log in")
    classify_interactions.enqueue([row.pk])
    assert MessageAnalysis.objects.filter(interaction_id=row.pk).exists()


def test_correction_is_kept_and_audited(make_staff: Callable[..., User]) -> None:
    agent = make_staff("agent7")
    row = _interaction("do you deliver to tehran")
    interactions_classify(interaction_ids=[row.pk])
    analysis = analysis_correct(interaction_id=row.pk, user=agent, need="care")
    assert analysis.corrected_need == "care" and analysis.final_need == "care"
    assert analysis.corrected_sentiment == "" and analysis.corrected_by == agent
    assert analysis.corrected_at is not None
    log = AuditLog.objects.get(action="language.correct")
    assert (log.actor, log.object_type, log.object_id) == (agent, "interaction", str(row.pk))
    assert log.customer_id == row.customer_id
    assert log.data["need"]["to"] == "care"
    [example] = corrections_for_training(weight=5)
    assert (example.text, example.need, example.weight) == ("do you deliver to tehran", "care", 5)


def test_correction_of_an_unclassified_interaction_classifies_it(
    make_staff: Callable[..., User],
) -> None:
    row = _interaction("新年快乐")
    analysis = analysis_correct(interaction_id=row.pk, user=make_staff(), sentiment="neutral")
    assert analysis.language == "zh" and analysis.final_sentiment == "neutral"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"need": "billing"}, "unknown need 'billing'"),
        ({"sentiment": "angry"}, "unknown sentiment 'angry'"),
        ({}, "give a need, a sentiment or both"),
    ],
)
def test_bad_labels_are_refused(
    make_staff: Callable[..., User], kwargs: dict[str, Any], message: str
) -> None:
    row = _interaction("hello")
    with pytest.raises(ValueError, match=message):
        analysis_correct(interaction_id=row.pk, user=make_staff(), **kwargs)
    assert not AuditLog.objects.filter(action="language.correct").exists()


def test_ingestion_classifies_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    from khoshnud.interactions.services import events_ingest
    from tests.conftest import event

    with django_capture_on_commit_callbacks(execute=True):
        [result] = events_ingest(events=[event(text="服务太差了，我要退款")])
    analysis = MessageAnalysis.objects.get(interaction_id=result.id)
    assert analysis.language == "zh" and analysis.customer_id == result.customer_id
