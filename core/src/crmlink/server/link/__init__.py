"""CRM Link: the end user's mapping page, its token-scoped API and the JS helper that embeds it.

``install_link(app)`` adds to a crmlink server:

* ``POST /api/v1/crm/{connectionID}/link-token`` (app credentials): a signed, short-lived token
  for one connection (see :mod:`crmlink.server.link.tokens`);
* ``/api/v1/link/...`` (``Authorization: Bearer <link token>``): the page's API;
* ``/link/`` the page and ``/link/crmlink.js`` the helper, static files shipped in this package
  (no Node.js, no build step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from crmlink.server.link.api import LinkTokenInvalid, link_router, token_router

__all__ = ["STATIC_DIR", "install_link"]

STATIC_DIR = Path(__file__).parent / "static"

_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors *"
)


class _LinkStatic(StaticFiles):
    """The page's files, with headers that keep the token (in the URL fragment) to the page."""

    async def get_response(self, path: str, scope: Scope) -> Any:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if path in ("", ".", "index.html") or path.endswith(".html"):
            response.headers["Content-Security-Policy"] = _PAGE_CSP
        if path == "crmlink.js":
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response


async def _invalid_token(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LinkTokenInvalid)
    return JSONResponse(
        exc.envelope(),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="crmlink-link", error="invalid_token"'},
    )


def install_link(app: FastAPI) -> None:
    """Add the link-token endpoint, the page's API and the page's static files to ``app``."""
    app.include_router(token_router)
    app.include_router(link_router)
    app.add_exception_handler(LinkTokenInvalid, _invalid_token)
    app.mount("/link", _LinkStatic(directory=STATIC_DIR, html=True), name="crm-link")
