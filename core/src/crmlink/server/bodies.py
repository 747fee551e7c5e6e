"""Request bodies: JSON objects, read the way the seed's clients send them.

The seed's requests carry a JSON body without a ``Content-Type`` header, which FastAPI's own body
parsing refuses; this dependency accepts a missing or JSON content type, refuses others, and
turns every problem into a ``bad_request`` naming what was wrong and where.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from crmlink.errors import BadRequest, ErrorItem

__all__ = ["json_body", "json_object", "openapi_body", "parse_json_object", "parse_model"]

M = TypeVar("M", bound=BaseModel)


def parse_json_object(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The body ``raw`` as a JSON object; ``BadRequest`` naming what is wrong otherwise."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise BadRequest(
            f"the request body must be a JSON object sent as application/json (not {media})"
        )
    if not raw.strip():
        raise BadRequest("the request body is empty: send a JSON object")
    try:
        body = json.loads(raw.decode("utf-8"))
        if b"\\u" in raw:
            # Lone surrogates ("\ud800") parse, but can be neither stored nor answered. UTF-8
            # itself cannot carry them, so only a \u escape can: the check is skipped without.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeError:
        raise BadRequest(
            "the request body is not UTF-8 encoded JSON (or holds unpaired surrogates)"
        ) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(body, dict):
        raise BadRequest(f"the request body must be a JSON object, not {type(body).__name__}")
    return body


def parse_model(model: type[M], raw: bytes, content_type: str | None) -> M:
    """The body ``raw`` as ``model``; ``BadRequest`` with a path per problem otherwise."""
    body = parse_json_object(raw, content_type)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        items = [
            ErrorItem(
                ".".join(str(p) for p in err["loc"]) or "body",
                "unknown key"
                if err["type"] == "extra_forbidden"
                else "required key is missing"
                if err["type"] == "missing"
                else str(err["msg"]),
            )
            for err in exc.errors()
        ]
        raise BadRequest("the request body is malformed", errors=items) from None


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency that reads the body as ``model``."""

    async def read(request: Request) -> M:
        return parse_model(model, await request.body(), request.headers.get("content-type"))

    return read


async def json_object(request: Request) -> dict[str, Any]:
    """A dependency that reads the body as any JSON object."""
    return parse_json_object(await request.body(), request.headers.get("content-type"))


def openapi_body(model: type[BaseModel] | None, description: str = "") -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body (parsed by a dependency above)."""
    schema: dict[str, Any] = (
        model.model_json_schema(ref_template="#/components/schemas/{model}")
        if model is not None
        else {"type": "object"}
    )
    schema.pop("$defs", None)
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }
