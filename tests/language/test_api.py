"""The analysis API: read, correct (audited), bad labels, unknown interactions, scopes."""

from __future__ import annotations

import json

import pytest

from khoshnud.accounts.models import AuditLog
from khoshnud.interactions.services import events_ingest
from khoshnud.language.models import MessageAnalysis
from tests.conftest import event

pytestmark = pytest.mark.django_db


def test_read_and_correct(api_client, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = api_client()
    with django_capture_on_commit_callbacks(execute=True):
        [r] = events_ingest(events=[event(text="the grinder makes a horrible noise, fix it")])
    url = f"/api/v1/interactions/{r.id}/analysis"
    got = client.get(url).json()
    assert got["language"] == "en" and got["corrected_need"] == ""
    assert set(got["need_probabilities"]) == {"service", "support", "care", "other"}

    fixed = client.post(url, json.dumps({"need": "care"}), content_type="application/json")
    assert fixed.status_code == 200
    assert fixed.json()["need"] == "care" and fixed.json()["corrected_need"] == "care"
    assert MessageAnalysis.objects.get(pk=r.id).final_need == "care"
    assert AuditLog.objects.filter(action="language.correct", object_id=str(r.id)).count() == 1

    bad = client.post(url, json.dumps({"need": "billing"}), content_type="application/json")
    assert bad.status_code == 422 and "unknown need 'billing'" in bad.json()["detail"]
    assert MessageAnalysis.objects.get(pk=r.id).final_need == "care"  # unchanged
    missing = client.post("/api/v1/interactions/999999/analysis", json.dumps({"need": "care"}),
                          content_type="application/json")  # fmt: skip
    assert missing.status_code == 404
    read_only = api_client(scopes="read").post(url, json.dumps({"need": "other"}),
                                               content_type="application/json")  # fmt: skip
    assert read_only.status_code == 403
    assert MessageAnalysis.objects.get(pk=r.id).final_need == "care"
