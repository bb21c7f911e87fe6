"""The demo's messages become cases through the real pipeline (classification, then cases)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count

from khoshnud.cases.models import Case, CaseInteraction
from khoshnud.interactions.models import Interaction
from khoshnud.ops.demo_data import build_demo
from khoshnud.ops.management.commands.demo import ensure_demo_staff
from khoshnud.servicelevels.business_time import business_add
from khoshnud.servicelevels.selectors import calendar_by_name, calendar_schedule

pytestmark = pytest.mark.django_db


def test_demo_messages_become_cases(
    settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.DATA_DIR = tmp_path
    ensure_demo_staff()
    with django_capture_on_commit_callbacks(execute=True):
        build_demo(customers=40)
    inbound = Interaction.objects.filter(
        source="demo", direction="inbound", type__in=["message", "call", "visit", "review"]
    )
    linked = CaseInteraction.objects.filter(interaction__in=inbound)
    assert linked.count() == inbound.count() > 100
    assert set(Case.objects.values_list("kind", flat=True)) == {"service", "support", "care"}
    assert set(Case.objects.values_list("team__name", flat=True)) == {"service", "support", "care"}
    assert Case.objects.filter(priority="high").exists()
    assert Case.objects.filter(first_responded_at__isnull=False).exists()
    # Routing: the demo agents get cases of their kinds up to their caps (sara: care, 25;
    # wei: support, 20; james: service and support, 30); the rest wait in the queues.
    # (Cases the demo's history worked were assigned by hand; routing's caps hold for the rest.)
    routed = dict(
        Case.objects.filter(assignee__isnull=False, status="new")
        .values_list("assignee__username")
        .annotate(n=Count("id"))
    )
    assert set(routed) == {"sara", "wei", "james"}
    assert routed["sara"] <= 25 and routed["wei"] <= 20 and routed["james"] <= 30
    assert set(Case.objects.filter(assignee__username="sara").values_list("kind", flat=True)) == {
        "care"
    }
    # Every case was routed once at least (a hand-off routes it again within its new team).
    assert not Case.objects.exclude(events__action="case.routed").exists()
    # Due times follow the demo catalog on the Tehran shop calendar.
    calendar = calendar_by_name(name="Tehran shop")
    assert calendar is not None
    schedule = calendar_schedule(calendar=calendar)
    case = (
        Case.objects.filter(kind="support", customer__tier="standard")
        .exclude(channel="chat")
        .first()
    )
    assert case is not None and case.resolution_due is not None
    assert case.resolution_due == business_add(schedule, case.opened_at, 480)
    assert case.first_response_due == business_add(schedule, case.opened_at, 120)
