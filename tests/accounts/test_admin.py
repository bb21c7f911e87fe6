"""The Django admin: every registered list opens for an admin; the log cannot be edited there."""

from __future__ import annotations

import pytest
from django.test import Client

from khoshnud.interactions.services import events_ingest
from tests.conftest import event

pytestmark = pytest.mark.django_db


def test_admin_lists_open_and_log_is_read_only(make_staff) -> None:  # type: ignore[no-untyped-def]
    [r] = events_ingest(events=[event()])
    client = Client()
    client.force_login(make_staff("boss", "admin"))
    for path in ["customers/customer", "interactions/interaction", "commerce/order",
                 "commerce/product", "accounts/apitoken", "accounts/auditlog", "accounts/team"]:  # fmt: skip
        assert client.get(f"/admin/{path}/").status_code == 200, path
    assert client.get(f"/admin/customers/customer/{r.customer_id}/change/").status_code == 200
    detail = client.get(f"/admin/interactions/interaction/{r.id}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert client.get("/admin/interactions/interaction/add/").status_code == 403
    assert client.post(f"/admin/interactions/interaction/{r.id}/delete/").status_code == 403
    agent = Client()
    agent.force_login(make_staff("ag", "agent"))
    assert agent.get("/admin/").status_code == 302  # agents are not admin staff
