"""/api/docs works without internet: Swagger UI comes from the package, under the CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.e2e


def test_api_docs_lists_the_operations_with_the_network_blocked(
    live_server: Any, transactional_db: Any, page: Any, screenshots: Path
) -> None:
    outside: list[str] = []

    def only_localhost(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host in {"localhost", "127.0.0.1"}:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_localhost)
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    paths = {s.replace("\u200b", "").strip() for s in summaries}
    assert {"/api/v1/events", "/api/v1/customers", "/api/v1/customers/{customer_id}/erase",
            "/api/v1/orders"} <= paths  # fmt: skip
    assert page.locator(".opblock-post").count() >= 6
    assert "Khoshnud API" in page.locator(".info .title").inner_text()
    assert outside == []
    page.screenshot(path=str(screenshots / "api-docs.png"))
