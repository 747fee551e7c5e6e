"""Authentication: HTTP Basic with ``key_id:secret``; every request is scoped to its app."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPBasic

from crmlink.errors import Unauthorized

__all__ = ["AppId", "KeyVerifier", "basic_credentials", "current_app_id"]


class _DocumentedBasic(HTTPBasic):
    """Declares HTTP Basic in the OpenAPI document; the checking is ``current_app_id``'s."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


_basic = _DocumentedBasic(description="API key: `KEY_ID:SECRET` from `crmlink keys create`.")


class KeyVerifier(Protocol):
    def verify_api_key(self, key_id: str, secret: str) -> str | None: ...


def basic_credentials(header: str | None) -> tuple[str, str]:
    """``(key_id, secret)`` of an ``Authorization: Basic`` header; ``Unauthorized`` if unusable."""
    if not header:
        raise Unauthorized("missing Authorization header: use HTTP Basic with KEY_ID:SECRET")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Unauthorized("the Authorization header must be HTTP Basic with KEY_ID:SECRET")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are not valid base64 of KEY_ID:SECRET") from None
    key_id, sep, secret = decoded.partition(":")
    if not sep or not key_id or not secret:
        raise Unauthorized("the Basic credentials must be KEY_ID:SECRET")
    return key_id, secret


async def current_app_id(request: Request, _: Annotated[object, Depends(_basic)] = None) -> str:
    """The id of the app whose valid, unrevoked API key signed this request.

    Runs on the event loop (one indexed lookup and one hash), sparing every request a
    thread-pool hop of its own; the endpoint's work then runs in one worker thread.
    """
    key_id, secret = basic_credentials(request.headers.get("authorization"))
    verifier: KeyVerifier = request.app.state.store
    app_id = verifier.verify_api_key(key_id, secret)
    if app_id is None:
        raise Unauthorized("unknown or revoked API key")
    return app_id


AppId = Annotated[str, Depends(current_app_id)]
