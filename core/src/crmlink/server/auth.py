"""Authentication: HTTP Basic with ``key_id:secret``; every request is scoped to its app."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPBasic

from crmlink.errors import Unauthorized

__all__ = [
    "BASIC_AUTH_OPENAPI",
    "AppId",
    "KeyVerifier",
    "authenticate",
    "authenticate_invocation",
    "basic_credentials",
    "current_app_id",
]


class _DocumentedBasic(HTTPBasic):
    """Declares HTTP Basic in the OpenAPI document; the checking is ``current_app_id``'s."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


_basic = _DocumentedBasic(description="API key: `KEY_ID:SECRET` from `crmlink keys create`.")


class KeyVerifier(Protocol):
    def verify_api_key(self, key_id: str, secret: str) -> str | None: ...

    def authorize_invocation(
        self, key_id: str, secret: str, connection_id: str
    ) -> tuple[str | None, int | None]: ...


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


def authenticate(request: Request) -> str:
    """The id of the app whose valid, unrevoked API key signed ``request``.

    It queries the database, so it runs in a worker thread, never on the event loop: a
    blocking call there stalls every request in flight while it waits to take the GIL back.
    """
    key_id, secret = basic_credentials(request.headers.get("authorization"))
    verifier: KeyVerifier = request.app.state.store
    app_id = verifier.verify_api_key(key_id, secret)
    if app_id is None:
        raise Unauthorized("unknown or revoked API key")
    return app_id


def authenticate_invocation(request: Request, connection_id: str) -> tuple[str, int | None]:
    """:func:`authenticate`, and the version of the app's connection ``connection_id`` (``None``
    if it has none), read in the same query: the invoke routes' one database read."""
    key_id, secret = basic_credentials(request.headers.get("authorization"))
    verifier: KeyVerifier = request.app.state.store
    app_id, version = verifier.authorize_invocation(key_id, secret, connection_id)
    if app_id is None:
        raise Unauthorized("unknown or revoked API key")
    return app_id, version


def current_app_id(request: Request, _: Annotated[object, Depends(_basic)] = None) -> str:
    """The dependency form of :func:`authenticate` (FastAPI runs it in a worker thread)."""
    return authenticate(request)


AppId = Annotated[str, Depends(current_app_id)]
"""The calling app's id, for routes that authenticate through FastAPI's dependencies."""

BASIC_AUTH_OPENAPI: dict[str, Any] = {"security": [{_basic.scheme_name: []}]}
"""``openapi_extra`` declaring HTTP Basic on a route that calls :func:`authenticate` itself, in
the same worker thread as the rest of its work (the invoke routes: one thread hop per request,
and no dependency to solve on the event loop)."""
