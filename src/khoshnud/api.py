"""The REST API (django-ninja) under /api/v1, OpenAPI UI at /api/docs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from khoshnud.accounts.api_auth import AUTH

api = NinjaAPI(
    title="Khoshnud API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    auth=AUTH,
    description=(
        "Customers, channel identities and the omnichannel interaction log. "
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`khoshnud token create --user NAME --scopes read,write`)."
    ),
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "authentication required: send 'Authorization: Bearer <token>'"},
        status=401,
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "invalid request", "errors": exc.errors}, status=422
    )


def _register() -> None:
    from khoshnud.cases.api import router as cases_router
    from khoshnud.commerce.api import router as commerce_router
    from khoshnud.customers.api import router as customers_router
    from khoshnud.interactions.api import router as interactions_router
    from khoshnud.language.api import router as language_router
    from khoshnud.servicelevels.api import router as servicelevels_router

    api.add_router("/v1/", interactions_router)
    api.add_router("/v1/customers", customers_router)
    api.add_router("/v1/", commerce_router)
    api.add_router("/v1/", language_router)
    api.add_router("/v1/", cases_router)
    api.add_router("/v1/", servicelevels_router)


_register()
