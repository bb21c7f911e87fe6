"""The API's one error shape, its place in the OpenAPI document, and a middleware that keeps
Django's HTML error pages away from /api/ (unknown URLs, errors outside the API's views)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "what went wrong, for a person"},
        "errors": {
            "type": "array",
            "description": "for invalid input: one entry per field",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "example": '{"detail": "invalid request", "errors": [{"loc": ["body", "payload", "reason"], '
    '"msg": "Field required", "type": "missing"}]}',
}

# Status codes an operation can answer besides its own, and why.
_COMMON = {
    401: "no valid token (or session)",
    403: "the token lacks the scope, or the user the role; or a session write without CSRF",
    422: "invalid input: parameters or body fields",
    429: "too many failed token attempts from this address (see Retry-After)",
}
_WITH_BODY = {
    400: "the body is not a JSON object (malformed, not UTF-8, NaN, nested too deep)",
    413: "the body is larger than the limit",
    503: "concurrent writers kept the write from being stored (nothing was): send it again",
}
_WITH_PATH = {404: "no such customer or interaction"}
_ALWAYS = {500: "an unexpected error (logged); the answer is JSON too"}


def error_body(detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"detail": ...}`` plus ``errors`` (loc, msg, type only: never the input echoed back)."""
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = [
            {
                "loc": [p if isinstance(p, int | str) else str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in errors
        ]
    return body


def document_errors(schema: dict[str, Any]) -> None:
    """Add the Error component and every status an operation can answer to the document."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        k: v for k, v in ERROR_SCHEMA.items() if k != "example"
    }
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            extra = dict(_COMMON)
            if method in ("post", "patch", "put"):
                extra |= _WITH_BODY
            if "{" in path:
                extra |= _WITH_PATH
            extra |= _ALWAYS
            responses = operation.setdefault("responses", {})
            for status, why in extra.items():
                existing = responses.pop(status, None) or responses.get(str(status)) or {}
                responses[str(status)] = {"description": existing.get("description", why), **ref}


class ApiJsonErrorsMiddleware:
    """Under /api/: an error page Django would render as HTML (an unknown URL, a method the
    route does not take, an exception outside the API's views) is answered as JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return _json(response.status_code, headers=response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        # Django's own answers to these are 404 / 403: keep the status, answer in JSON.
        if isinstance(exception, Http404):
            return _json(404)
        if isinstance(exception, PermissionDenied):
            return _json(403)
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exception)
        return _json(500)


def _json(status: int, headers: HttpResponse | None = None) -> JsonResponse:
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "error"
    response = JsonResponse({"detail": phrase}, status=status, json_dumps_params={"indent": None})
    if headers is not None and headers.has_header("Allow"):
        response["Allow"] = headers["Allow"]
    return response


__all__ = ["ERROR_SCHEMA", "ApiJsonErrorsMiddleware", "document_errors", "error_body"]
