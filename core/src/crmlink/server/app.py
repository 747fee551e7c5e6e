"""The ASGI application: ``create_app()`` wires storage, the engine, the API and error handling."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import FastAPI

import crmlink
from crmlink.engine import Engine
from crmlink.plugins import PluginHost
from crmlink.server.api import router
from crmlink.server.body_limit import BodyLimit
from crmlink.server.errors import install_error_handlers
from crmlink.server.settings import ServerSettings

__all__ = ["create_app", "open_store"]

_DESCRIPTION = """\
An open Universal CRM API. Apps declare objects and events once; each end user maps them onto
their own CRM; apps invoke events and get back the CRM record id and its mapped fields.

Authenticate with HTTP Basic, `KEY_ID:SECRET` (from `crmlink keys create --app NAME`).
Every error answers `{"error": {"type", "message", "errors"?, "crm"?, "mapping_path"?}}`.
"""


def _secret_key(settings: ServerSettings) -> Any:
    from crmlink.secrets import load_secret_key

    env = {"CRMLINK_SECRET_KEY": settings.secret_key} if settings.secret_key else {}
    key, _source = load_secret_key(env=env, key_file=settings.key_file)
    return key


def open_store(settings: ServerSettings) -> Any:
    """The SQL store for ``settings``, with its encryption key (creating a key file if needed)."""
    from crmlink.store.sql import SqlStore

    return SqlStore(settings.database_url, secret_key=_secret_key(settings))


def _signing_key(settings: ServerSettings) -> bytes:
    """A key for signing link tokens, derived from (never equal to) the encryption key."""
    key = _secret_key(settings)
    raw = key.encode() if isinstance(key, str) else bytes(key)
    return hmac.new(raw, b"crmlink link-token signing key v1", hashlib.sha256).digest()


def create_app(
    settings: ServerSettings | None = None,
    *,
    store: Any | None = None,
    plugins: PluginHost | None = None,
) -> FastAPI:
    """Build the server. Without ``store``, opens the SQL store that ``settings`` names."""
    settings = settings or ServerSettings.from_env()
    store = store if store is not None else open_store(settings)
    engine = Engine(store, plugins=plugins, idempotency_ttl=settings.idempotency_ttl)
    app = FastAPI(
        title="crmlink",
        version=crmlink.__version__,
        description=_DESCRIPTION,
        openapi_tags=[
            {"name": "events", "description": "Invoke the app's events (the seed's API)."},
            {"name": "connections", "description": "Connections, definitions and the audit log."},
            {"name": "mapping", "description": "The CRM catalog and the end user's mapping."},
        ],
    )
    app.state.settings = settings
    app.state.store = store
    app.state.engine = engine
    app.state.signing_key = _signing_key(settings)
    install_error_handlers(app)
    app.include_router(router)
    from crmlink.server.link import install_link  # CRM Link: link tokens, page API, the page

    install_link(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
