"""The 404 and 500 pages are the product's: its layout, the viewer's language, a way back.

Run with DEBUG off (as pytest-django does, asserted here): with DEBUG on Django shows its
technical pages instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from django.utils import translation

from khoshnud.urls import urlpatterns as real_urlpatterns
from khoshnud.web.views import server_error
from tests.web.conftest import in_language


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *real_urlpatterns]
handler500 = "khoshnud.web.views.server_error"


@pytest.fixture(autouse=True)
def _debug_off(settings: Any) -> None:
    settings.DEBUG = False


@pytest.mark.parametrize(
    ("language", "direction", "heading", "back"),
    [
        ("en", "ltr", "This page does not exist", "Back to customers"),
        ("fa", "rtl", "این صفحه وجود ندارد", "بازگشت به مشتریان"),
        ("zh-hans", "ltr", "此页面不存在", "返回客户列表"),
    ],
)
def test_404_is_our_page_in_the_viewers_language(
    agent_client: Client, language: str, direction: str, heading: str, back: str
) -> None:
    in_language(agent_client, language)
    response = agent_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert heading in html and back in html
    assert 'href="/"' in html  # the way back
    assert 'class="topbar"' in html and "css/khoshnud.css" in html  # the product's layout
    assert '<bdi dir="ltr">/no/such/page/</bdi>' in html


def test_404_for_an_unknown_customer_in_persian(agent_client: Client, db: Any) -> None:
    in_language(agent_client, "fa")
    response = agent_client.get("/customers/999999/")
    assert response.status_code == 404
    assert "این صفحه وجود ندارد" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Something went wrong on our side"), ("fa", "مشکلی از سمت ما پیش آمد")],
)
def test_500_is_our_page_in_the_viewers_language(
    agent_client: Client, language: str, heading: str
) -> None:
    in_language(agent_client, language)
    agent_client.raise_request_exception = False
    response = agent_client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert heading in html
    assert 'href="/"' in html and 'href="/boom/"' in html  # back, and try again
    assert 'class="topbar"' in html and "css/khoshnud.css" in html


def test_500_page_does_not_touch_the_database() -> None:
    """No ``db`` fixture: pytest-django fails any query. The page renders all the same."""
    request = RequestFactory().get("/customers/7/")
    with translation.override("zh-hans"):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="zh-hans" dir="ltr">' in html
    assert "我们这边出了问题" in html and 'href="/customers/7/"' in html


@pytest.mark.django_db
def test_500_page_runs_no_query(django_assert_num_queries: Any) -> None:
    request = RequestFactory().get("//evil.example/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert "evil.example" not in response.content.decode()  # no off-site "try again"
