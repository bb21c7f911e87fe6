"""The REST API (django-ninja) under /api/v1, OpenAPI UI at /api/docs.

Every error answer has one shape, ``{"detail": "<one line for a person>"}`` plus, for invalid
input, ``"errors": [{"loc": [...], "msg": "..."}]``; no Django HTML page ever comes from /api/.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from khoshnud.accounts.api_auth import AUTH
from khoshnud.accounts.throttle import TokenThrottled
from khoshnud.api_docs import VendoredSwagger
from khoshnud.api_errors import ERROR_SCHEMA, document_errors, error_body
from khoshnud.db import DatabaseBusyError
from khoshnud.inputs import InputError, read_json

logger = logging.getLogger(__name__)


class JsonBodyParser(Parser):
    """The one reading of request bodies: a JSON object, no NaN, not nested past the stack."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        body = read_json(request.body)
        if not isinstance(body, dict):
            raise InputError("", "the body must be a JSON object")
        return body


class KhoshnudAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        document_errors(schema)
        return schema


api = KhoshnudAPI(
    title="Khoshnud API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    docs=VendoredSwagger(),
    auth=AUTH,
    parser=JsonBodyParser(),
    description=(
        "Customers, channel identities and the omnichannel interaction log. "
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`khoshnud token create --user NAME --scopes read,write`). "
        "Every error is JSON: `" + ERROR_SCHEMA["example"] + "`. "
        f"A request body is at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes (413 above)."
    ),
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    detail = "authentication required: send 'Authorization: Bearer <token>'"
    return api.create_response(request, error_body(detail), status=401)


def _retry_later(
    request: HttpRequest, exc: TokenThrottled | DatabaseBusyError, status: int
) -> HttpResponse:
    response = api.create_response(request, error_body(str(exc)), status=status)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(TokenThrottled)
def _throttled(request: HttpRequest, exc: TokenThrottled) -> HttpResponse:
    """Too many failed token attempts from this address: 429 until the window ends."""
    return _retry_later(request, exc, 429)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, error_body("invalid request", exc.errors), status=422)


@api.exception_handler(InputError)
def _bad_input(request: HttpRequest, exc: InputError) -> HttpResponse:
    # A body that cannot be read at all is 400; a readable one with a bad field is 422.
    status = 422 if exc.field else 400
    return api.create_response(request, error_body(str(exc)), status=status)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps the body parser's error ("Cannot parse request body"): give its reason.
    cause = exc.__cause__
    detail = str(cause) if isinstance(cause, InputError) else str(exc)
    return api.create_response(request, error_body(detail), status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, error_body(str(exc) or "not found"), status=404)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = f"the body is larger than {limit:,} bytes; send fewer events per request"
    return api.create_response(request, error_body(detail), status=413)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    detail = "internal error; it was logged (retry later or report it)"
    return api.create_response(request, error_body(detail), status=500)


@api.exception_handler(DatabaseBusyError)
def _busy(request: HttpRequest, exc: DatabaseBusyError) -> HttpResponse:
    """Concurrent writers kept a write from being stored (nothing of it was): try again."""
    return _retry_later(request, exc, 503)


def _register() -> None:
    from khoshnud.cases.api import router as cases_router
    from khoshnud.channels.api import router as channels_router
    from khoshnud.commerce.api import router as commerce_router
    from khoshnud.customers.api import router as customers_router
    from khoshnud.engagement.api import router as engagement_router
    from khoshnud.feedback.api import router as feedback_router
    from khoshnud.insights.api import router as insights_router
    from khoshnud.interactions.api import router as interactions_router
    from khoshnud.language.api import router as language_router
    from khoshnud.servicelevels.api import router as servicelevels_router

    api.add_router("/v1/", interactions_router)
    api.add_router("/v1/customers", customers_router)
    api.add_router("/v1/", commerce_router)
    api.add_router("/v1/", language_router)
    api.add_router("/v1/", cases_router)
    api.add_router("/v1/", servicelevels_router)
    api.add_router("/v1/", channels_router)
    api.add_router("/v1/", feedback_router)
    api.add_router("/v1/", insights_router)
    api.add_router("/v1/", engagement_router)


_register()
