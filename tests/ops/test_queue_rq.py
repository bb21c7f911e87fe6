"""The distributed queue: classification enqueued on RQ (Redis) and run by an RQ worker."""

from __future__ import annotations

import pytest
from django.test import override_settings

from khoshnud.interactions.services import events_ingest
from khoshnud.language.models import MessageAnalysis
from tests.conftest import event

redis = pytest.importorskip("redis")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0").ping())
    except redis.exceptions.ConnectionError:
        return False


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not _redis_up(), reason="!!! Redis is not running on 127.0.0.1:6379 !!!"),
]


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend"}})
def test_ingestion_enqueues_on_redis_and_an_rq_worker_classifies(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue = django_rq.get_queue("default", job_class=Job)
    queue.empty()
    with django_capture_on_commit_callbacks(execute=True):
        results = events_ingest(events=[
            event(external_id="q1", text="My espresso machine shows error E05 and won't heat"),
            event(external_id="q2", text="هنوز سفارشم نرسیده، کی ارسال میشه؟",
                  customer={"phone": "09121112233"}),
        ])  # fmt: skip
    assert queue.count == 1  # one task per batch
    assert MessageAnalysis.objects.count() == 0  # nothing ran in the request

    # SimpleWorker runs jobs in this process (no fork), so it shares the test's database.
    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    assert worker.work(burst=True)
    analyses = {a.interaction_id: a for a in MessageAnalysis.objects.all()}
    assert set(analyses) == {r.id for r in results}
    assert analyses[results[0].id].language == "en"
    assert analyses[results[1].id].language == "fa"
    assert queue.count == 0
