"""The OpenAPI document is valid and complete, and schemathesis finds no server error and no
undocumented status code in it (bounded: a few dozen examples per operation, fixed seed, the
app called in-process through WSGI: no network).

Runs on both databases, with CSRF enforced (the WSGI app is the real one) and a write token of
an admin, so every write reaches its service.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from khoshnud.accounts.services import staff_create, token_create

EXAMPLES_PER_OPERATION = 30
CASES_RUN: dict[str, int] = {}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


@pytest.mark.django_db
def test_the_document_is_valid_openapi_with_every_ref_resolved() -> None:
    document = Client().get("/api/openapi.json").json()
    schemathesis.openapi.from_dict(document).validate()
    components = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs, "the document uses components"
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in components, f"{ref} does not exist"
    events = document["paths"]["/api/v1/events"]["post"]
    body = events["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["events"]["maxItems"] == 1000
    # Every operation documents the errors it can answer, in the one error shape.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "422", "500"} <= codes, (method, path)
            if method in ("post", "patch"):
                assert {"400", "413"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}


# Inbound email takes the raw message: fuzz it as raw bytes, as text/plain is.
schemathesis.serializer.alias("message/rfc822", "text/plain")

# The live document, read from the app itself (in-process WSGI) when the tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def write_token(db: Any) -> Iterator[str]:
    """An admin's write token. As Django's test client does, requests keep the test's database
    connection (the WSGI app would close it after each response, inside the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    user = staff_create(username="fuzz-admin", password="Fuzzing-keys-2026", role="admin")
    _token, secret = token_create(user=user, scopes=["read", "write"])
    try:
        yield secret
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the same examples every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_undocumented_status(case: Any, write_token: str) -> None:
    key = f"{case.method} {case.path}"
    CASES_RUN[key] = CASES_RUN.get(key, 0) + 1
    case.call_and_validate(
        headers={"Authorization": f"Bearer {write_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_zz_report_cases_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints how many generated requests the fuzzing above sent (shown without -s too)."""
    documented = {
        f"{method.upper()} {path}"
        for path, operations in schema.raw_schema["paths"].items()
        for method in operations
    }
    cases = sum(n for key, n in CASES_RUN.items() if key in documented)
    probes = sum(n for key, n in CASES_RUN.items() if key not in documented)
    with capsys.disabled():
        print(
            f"\nschemathesis: {cases} cases over {len(documented)} operations "
            f"(+ {probes} unsupported-method probes), no failure"
        )
