"""Ingestion: idempotency, per-event rejection, customers by identity, one transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from khoshnud.customers.models import Customer, Identity
from khoshnud.interactions.models import AppendOnlyError, Interaction
from khoshnud.interactions.services import BatchError, events_ingest
from tests.conftest import event

pytestmark = pytest.mark.django_db


def test_creates_customer_by_identity_and_stores_interaction() -> None:
    [result] = events_ingest(events=[event()])
    assert result.status == "created"
    row = Interaction.objects.get(pk=result.id)
    customer = Customer.objects.get(pk=result.customer_id)
    assert customer.first_name == "Sara"
    assert customer.locale == "fa" and customer.calendar == "jalali"
    assert list(customer.identities.values_list("kind", "value")) == [("email", "sara@example.com")]
    # +03:30 is kept as the same instant: 09:30 Tehran = 06:00 UTC
    assert row.occurred_at == dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    assert row.text == "سلام وقت بخیر سفارشم هنوز نرسیده"


def test_resent_event_returns_the_id_it_already_has() -> None:
    [first] = events_ingest(events=[event()])
    [again] = events_ingest(events=[event(text="changed text is ignored")])
    assert again.status == "duplicate"
    assert (again.id, again.customer_id) == (first.id, first.customer_id)
    assert Interaction.objects.count() == 1
    assert Interaction.objects.get().text == "سلام وقت بخیر سفارشم هنوز نرسیده"


def test_duplicate_inside_one_batch_points_at_the_first() -> None:
    results = events_ingest(events=[event(), event()])
    assert [r.status for r in results] == ["created", "duplicate"]
    assert results[0].id == results[1].id
    assert Interaction.objects.count() == 1


def test_same_customer_found_by_any_identity_in_any_digit_system() -> None:
    phone_fa = {"phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "first_name": "Reza"}
    phone_ar = {"phone": "٠٩١٢٣٤٥٦٧٨٩"}
    phone_intl = {"phone": "+98 912 345 6789", "email": "reza@example.com"}
    results = events_ingest(
        events=[
            event(external_id="a", customer=phone_fa),
            event(external_id="b", customer=phone_ar),
            event(external_id="c", customer=phone_intl),
        ]
    )
    assert [r.status for r in results] == ["created"] * 3
    assert len({r.customer_id for r in results}) == 1
    assert Customer.objects.count() == 1
    identities = set(Identity.objects.values_list("kind", "value"))
    assert identities == {("phone", "+989123456789"), ("email", "reza@example.com")}


def test_invalid_events_are_rejected_with_index_and_reason_others_stored() -> None:
    results = events_ingest(
        events=[
            event(external_id="ok-1"),
            event(external_id="bad-channel", channel="pigeon"),
            event(external_id="bad-email", customer={"email": "not-an-email"}),
            event(external_id="bad-phone", customer={"phone": "12"}),
            event(external_id="naive", occurred_at="2026-11-20T09:30:00"),
            event(external_id="unknown-id", customer={"id": 999999}),
            "not an object",
            event(external_id="ok-2"),
        ]
    )
    statuses = [(r.index, r.status) for r in results]
    assert statuses == [
        (0, "created"),
        (1, "rejected"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "rejected"),
        (7, "created"),
    ]
    errors = {r.index: r.error for r in results if r.error}
    assert "unknown channel 'pigeon'" in errors[1]
    assert "invalid email" in errors[2]
    assert "invalid phone" in errors[3]
    assert "no time zone" in errors[4]
    assert "unknown customer id 999999" in errors[5]
    assert Interaction.objects.count() == 2


def test_batch_over_the_limit_stores_nothing() -> None:
    with pytest.raises(BatchError, match="at most 1000"):
        events_ingest(events=[event(external_id=str(i)) for i in range(1001)])
    assert Interaction.objects.count() == 0 and Customer.objects.count() == 0


def test_events_for_a_merged_customer_go_to_the_survivor() -> None:
    from khoshnud.customers.services import customer_create, customer_merge

    a = customer_create(data={"first_name": "A", "identities": {"email": "a@example.com"}})
    b = customer_create(data={"first_name": "B", "identities": {"email": "b@example.com"}})
    customer_merge(target=a, source=b)
    [r1, r2] = events_ingest(
        events=[
            event(external_id="x", customer={"id": b.pk}),
            event(external_id="y", customer={"email": "b@example.com"}),
        ]
    )
    assert r1.customer_id == a.pk and r2.customer_id == a.pk


def test_log_is_append_only() -> None:
    [result] = events_ingest(events=[event()])
    row = Interaction.objects.get(pk=result.id)
    row.text = "edited"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        Interaction.objects.filter(pk=row.pk).update(text="x")
    with pytest.raises(AppendOnlyError):
        Interaction.objects.filter(pk=row.pk).delete()
    assert Interaction.objects.get(pk=row.pk).text == "سلام وقت بخیر سفارشم هنوز نرسیده"


def test_erasure_blanks_text_and_is_audited(make_staff) -> None:  # type: ignore[no-untyped-def]
    from khoshnud.accounts.models import AuditLog
    from khoshnud.interactions.services import interaction_erase

    [result] = events_ingest(events=[event(metadata={"order": "A-1"})])
    admin = make_staff("dpo", "admin")
    assert (
        interaction_erase(customer_id=result.customer_id, reason="GDPR request", actor=admin) == 1
    )
    row = Interaction.objects.get(pk=result.id)
    assert (row.text, row.metadata) == ("", {}) and row.erased_at is not None
    log = AuditLog.objects.get(action="interaction.erase")
    assert log.actor == admin
    assert log.data == {
        "count": 1,
        "reason": "GDPR request",
        "erased": {
            "interactions": 1, "analyses": 0, "cases": 0, "survey answers": 0,
            "care follow-ups": 0, "outreach_sends": 0,
        },
    }  # fmt: skip


def test_classification_is_enqueued_after_commit(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from khoshnud.language.models import MessageAnalysis

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [result] = events_ingest(events=[event()])
    assert len(callbacks) == 1
    analysis = MessageAnalysis.objects.get(interaction_id=result.id)
    assert analysis.language == "fa"


def test_odd_texts_never_break_a_batch(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from khoshnud.language.models import MessageAnalysis

    texts = ["", "😀😀🎉", "12345 678", "x" * 100_000, "سلام، order #123 hasn't arrived",
             "bad \udcff surrogate"]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        results = events_ingest(
            events=[event(external_id=f"odd-{i}", text=t) for i, t in enumerate(texts)]
        )
    assert [r.status for r in results] == ["created"] * len(texts)
    analyses = {a.interaction_id: a for a in MessageAnalysis.objects.all()}
    by_text = {t: analyses.get(r.id) for t, r in zip(texts, results, strict=True)}
    assert by_text[""] is None  # nothing to read: not classified
    for text in ("😀😀🎉", "12345 678"):
        got = by_text[text]
        assert got is not None
        assert (got.need, got.sentiment, got.language_confidence) == ("other", "neutral", 0.0)
    assert by_text["سلام، order #123 hasn't arrived"].language == "fa"  # type: ignore[union-attr]
    assert by_text["x" * 100_000] is not None


def test_identities_added_by_ingestion_are_searchable() -> None:
    from khoshnud.customers.selectors import customer_search

    events_ingest(events=[
        event(external_id="1", customer={"email": "known@example.com", "first_name": "Known"}),
        event(external_id="2", customer={"email": "new@example.com", "first_name": "New"}),
        event(external_id="3", customer={"email": "new@example.com", "telegram": "new_tg"}),
    ])  # fmt: skip
    # A later batch gives the known customer a Telegram id.
    events_ingest(events=[event(external_id="4",
                                customer={"email": "known@example.com", "telegram": "known_tg"})])  # fmt: skip
    assert [c.first_name for c in customer_search(query="new_tg")] == ["New"]
    assert [c.first_name for c in customer_search(query="known_tg")] == ["Known"]
