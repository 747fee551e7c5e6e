"""Turning every failure into the design's error envelope: never a traceback, never a bare 500."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crmlink.errors import BadRequest, CrmlinkError, CrmRateLimited, Unauthorized

__all__ = ["error_response", "install_error_handlers"]

log = logging.getLogger("crmlink.server")

_HTTP_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(exc: CrmlinkError) -> JSONResponse:
    """The JSON response for a crmlink error, with the headers its type calls for."""
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Basic realm="crmlink"'
    if isinstance(exc, CrmRateLimited):
        headers["Retry-After"] = str(max(1, round(exc.retry_after or 1)))
    return JSONResponse(exc.envelope(), status_code=exc.status, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:] or ["body"]
    return ".".join(parts) or "body"


def _validation_message(err: dict[str, Any]) -> str:
    if err["type"] == "json_invalid":
        return f"the body is not valid JSON: {err.get('ctx', {}).get('error', 'parse error')}"
    if err["type"] == "missing":
        return "required key is missing"
    if err["type"] == "extra_forbidden":
        return "unknown key"
    return str(err["msg"])


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that make every error an envelope."""

    @app.exception_handler(CrmlinkError)
    async def _crmlink(request: Request, exc: CrmlinkError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        content_type = request.headers.get("content-type", "")
        if any(err["type"] == "json_invalid" for err in errors):
            message = "the request body is not valid JSON"
        elif content_type and "json" not in content_type.lower():
            message = (
                f"the request body must be a JSON object, sent as application/json "
                f"(not {content_type.split(';')[0].strip()})"
            )
        elif any(tuple(err["loc"]) == ("body",) for err in errors):
            message = "the request body must be a JSON object"
        else:
            message = "the request is malformed"
        bad = BadRequest(message)
        body = bad.envelope()
        body["error"]["errors"] = [
            {"path": _location(tuple(err["loc"])), "error": _validation_message(err)}
            for err in errors
        ]
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = _HTTP_TYPES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            message = f"no route for {request.method} {request.url.path}"
        return JSONResponse(
            {"error": {"type": type_, "message": message}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", incident, request.method, request.url.path)
        return JSONResponse(
            {
                "error": {
                    "type": "internal_error",
                    "message": f"an unexpected error occurred (incident {incident}); "
                    "the server log has the details",
                }
            },
            status_code=500,
        )
