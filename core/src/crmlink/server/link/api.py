"""The link-token endpoint (app credentials) and the mapping page's API (link token only).

Everything under ``/api/v1/link`` is scoped by the token alone: the app id and the connection id
come from its signed claims, never from the URL or the body, so a token for connection A can
neither read nor change connection B.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from crmlink.definitions import parse_definition
from crmlink.engine import Engine
from crmlink.errors import NotFound, Unauthorized
from crmlink.server.auth import basic_credentials, current_app_id
from crmlink.server.bodies import json_body, json_object, openapi_body
from crmlink.server.link.choices import object_choices, strip_mapping, suggest_objects
from crmlink.server.link.tokens import (
    LinkClaims,
    TokenError,
    TokenExpired,
    decode_token,
    issue_token,
)
from crmlink.server.schemas import ErrorEnvelope
from crmlink.store.base import StoredConnection

__all__ = ["LinkTokenInvalid", "link_router", "token_router"]

MAX_TTL_SECONDS = 24 * 3600
_CONNECTOR_LABELS = {"salesforce": "Salesforce", "hubspot": "HubSpot", "memory": "Memory CRM"}


class LinkTokenInvalid(Unauthorized):
    """A missing, malformed, forged, expired or revoked link token (401, Bearer challenge)."""


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorEnvelope} for code in (400, 401, *codes)}


# -- issuing tokens (app credentials) -------------------------------------------------------------
token_router = APIRouter(prefix="/api/v1/crm", tags=["link"])


class LinkTokenIn(BaseModel):
    """Optional options of a new link token."""

    model_config = ConfigDict(extra="forbid")

    ttl_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TTL_SECONDS,
        description="Lifetime; default the server's CRMLINK_LINK_TOKEN_TTL_SECONDS (one hour).",
    )
    allow_definition: bool = Field(
        default=False,
        description="Let the page replace the connection's definition (linkCRM's `objects`).",
    )


class LinkTokenOut(BaseModel):
    token: str = Field(description="A bearer token for this one connection's mapping page.")
    connection_id: str
    expires_at: datetime
    expires_in: int = Field(description="Seconds.")
    page_url: str = Field(description="The CRM Link page; pass the token in its #fragment.")
    script_url: str = Field(description="The JS helper that opens the page in a modal.")


def _issuer(request: Request, app_id: Annotated[str, Depends(current_app_id)]) -> tuple[str, str]:
    """The calling app and the id of the API key it authenticated with."""
    key_id, _secret = basic_credentials(request.headers.get("authorization"))
    return app_id, key_id


def _optional_body(model: type[BaseModel], description: str) -> dict[str, Any]:
    extra = openapi_body(model, description)
    extra["requestBody"]["required"] = False
    return extra


async def _token_options(request: Request) -> LinkTokenIn:
    """The body's options; an empty body (or none) takes the defaults."""
    if not (await request.body()).strip():
        return LinkTokenIn()
    return await json_body(LinkTokenIn)(request)


@token_router.post(
    "/{connectionID}/link-token",
    response_model=LinkTokenOut,
    responses=_errors(404),
    summary="Issue a short-lived token for one connection's CRM Link page",
    openapi_extra=_optional_body(LinkTokenIn, "Optional; an empty body takes the defaults."),
)
def create_link_token(
    request: Request,
    issuer: Annotated[tuple[str, str], Depends(_issuer)],
    connection_id: Annotated[str, Path(alias="connectionID")],
    options: Annotated[LinkTokenIn, Depends(_token_options)],
) -> LinkTokenOut:
    app_id, key_id = issuer
    engine: Engine = request.app.state.engine
    engine.for_app(app_id).connection(connection_id)  # 404 for an unknown or another app's
    ttl = options.ttl_seconds or int(request.app.state.settings.link_token_ttl.total_seconds())
    scope = ("mapping", "definition") if options.allow_definition else ("mapping",)
    token, claims = issue_token(
        request.app.state.signing_key,
        app_id=app_id,
        connection_id=connection_id,
        key_id=key_id,
        ttl_seconds=ttl,
        scope=scope,
    )
    base = str(request.base_url).rstrip("/")
    return LinkTokenOut(
        token=token,
        connection_id=connection_id,
        expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        expires_in=ttl,
        page_url=f"{base}/link/",
        script_url=f"{base}/link/crmlink.js",
    )


# -- the page's API (link token) ------------------------------------------------------------------
def _key_active(store: Any, app_id: str, key_id: str) -> bool:
    lister = getattr(store, "list_api_keys", None)
    if lister is None:  # a store without API keys (in-process tests): nothing to revoke
        return True
    return any(k["key_id"] == key_id and k["revoked_at"] is None for k in lister(app_id))


def link_claims(request: Request) -> LinkClaims:
    """The claims of the request's bearer link token, alive and unrevoked; else 401."""
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LinkTokenInvalid("send the link token as 'Authorization: Bearer <token>'")
    try:
        claims = decode_token(request.app.state.signing_key, token.strip())
    except TokenExpired as exc:
        raise LinkTokenInvalid(str(exc)) from None
    except TokenError:
        raise LinkTokenInvalid("the link token is not valid") from None
    if not _key_active(request.app.state.store, claims.app_id, claims.key_id):
        raise LinkTokenInvalid("the link token was revoked (its API key was revoked)")
    return claims


Claims = Annotated[LinkClaims, Depends(link_claims)]

link_router = APIRouter(prefix="/api/v1/link", tags=["link"])


def _scoped(request: Request, claims: LinkClaims) -> tuple[Engine, StoredConnection]:
    engine: Engine = request.app.state.engine
    scoped = engine.for_app(claims.app_id)
    return scoped, scoped.connection(claims.connection_id)


def _settings_form(engine: Engine, stored: StoredConnection) -> list[dict[str, Any]]:
    """The connector's settings as form fields (from its pydantic model's JSON schema)."""
    model = engine.plugins.connector(stored.connector).settings_model
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    masked = engine.masked_settings(stored)
    form = []
    for name, prop in (schema.get("properties") or {}).items():
        variants = prop.get("anyOf") or [prop]
        main = next((v for v in variants if v.get("type") != "null"), variants[0])
        kind = main.get("type", "string")
        if kind not in ("string", "integer", "number", "boolean"):
            continue
        secret = main.get("format") == "password" or bool(main.get("writeOnly"))
        current = masked.get(name)
        form.append(
            {
                "name": name,
                "label": prop.get("title") or name,
                "description": prop.get("description"),
                "type": kind,
                "secret": secret,
                "required": name in required,
                "set": current is not None,
                "value": None if secret else current,
            }
        )
    return form


def _summary(engine: Engine, stored: StoredConnection, claims: LinkClaims) -> dict[str, Any]:
    health = engine.health(stored.connection_id)
    return {
        "connection_id": stored.connection_id,
        "connector": stored.connector,
        "connector_label": _CONNECTOR_LABELS.get(stored.connector, stored.connector.title()),
        "settings": engine.masked_settings(stored),
        "settings_form": _settings_form(engine, stored),
        "health": health.model_dump(),
        "objects": stored.definition,
        "mapping_status": engine.mapping_status(stored.connection_id),
        "expires_at": datetime.fromtimestamp(claims.expires_at, UTC).isoformat(),
        "can_edit_definition": claims.allows("definition"),
    }


@link_router.get("/connection", responses=_errors(404), summary="The token's connection")
def link_connection(request: Request, claims: Claims) -> dict[str, Any]:
    """The connection: connector, masked settings and their form, health, definition, status."""
    engine, stored = _scoped(request, claims)
    return _summary(engine, stored, claims)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(
        description="New CRM settings; keys left out, empty or null keep their current value."
    )


@link_router.put(
    "/settings",
    responses=_errors(404, 422),
    summary="Enter or replace the CRM credentials",
    openapi_extra=openapi_body(SettingsIn),
)
def link_settings(
    request: Request, claims: Claims, body: Annotated[SettingsIn, Depends(json_body(SettingsIn))]
) -> dict[str, Any]:
    engine, stored = _scoped(request, claims)
    merged = dict(stored.settings)
    merged.update({k: v for k, v in body.settings.items() if v is not None and v != ""})
    stored = engine.link(stored.connection_id, stored.connector, merged, stored.definition)
    return _summary(engine, stored, claims)


@link_router.get("/catalog", responses=_errors(404, 424, 429, 502), summary="The CRM's objects")
def link_catalog(request: Request, claims: Claims) -> dict[str, Any]:
    """The CRM objects, and per app object the suggested matches."""
    engine, stored = _scoped(request, claims)
    objects = engine.catalog(stored.connection_id)
    definition = parse_definition(stored.definition)
    return {
        "objects": [o.model_dump(mode="json") for o in objects],
        "suggestions": suggest_objects(definition, objects),
    }


@link_router.get(
    "/catalog/{crmObject}",
    responses=_errors(404, 424, 429, 502),
    summary="One CRM object, and what each app field and event may map onto",
)
def link_catalog_object(
    request: Request,
    claims: Claims,
    crm_object: Annotated[str, Path(alias="crmObject")],
    object: Annotated[str | None, Query(description="An app object slug.")] = None,
) -> dict[str, Any]:
    engine, stored = _scoped(request, claims)
    described = engine.catalog_object(stored.connection_id, crm_object)
    if object is None:
        return {"crm_object": described.model_dump(mode="json")}
    definition = parse_definition(stored.definition)
    obj = definition.objects.get(object)
    if obj is None:
        raise NotFound(f"the definition has no object {object!r}")
    return object_choices(obj, described, engine.plugins.transforms())


@link_router.get("/mapping", responses=_errors(404), summary="The saved mapping")
def link_get_mapping(request: Request, claims: Claims) -> dict[str, Any]:
    """The saved mapping, without what the current definition no longer has."""
    engine, stored = _scoped(request, claims)
    mapping, dropped = strip_mapping(parse_definition(stored.definition), stored.mapping)
    return {
        "mapping": mapping,
        "dropped": dropped,
        "mapping_status": engine.mapping_status(stored.connection_id),
    }


@link_router.put(
    "/mapping",
    responses=_errors(404, 422, 424, 429, 502),
    summary="Save the mapping, validated against the live catalog",
    openapi_extra=openapi_body(None, 'The mapping: `{"objects": {...}}`.'),
)
def link_put_mapping(
    request: Request, claims: Claims, mapping: Annotated[dict[str, Any], Depends(json_object)]
) -> dict[str, Any]:
    engine, stored = _scoped(request, claims)
    stored = engine.set_mapping(stored.connection_id, mapping)
    return {
        "mapping": stored.mapping,
        "dropped": [],
        "mapping_status": engine.mapping_status(stored.connection_id),
    }


class DefinitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objects: dict[str, Any]


@link_router.put(
    "/definition",
    responses=_errors(404, 422),
    summary="Replace the definition (tokens issued with allow_definition only)",
    openapi_extra=openapi_body(DefinitionIn),
)
def link_put_definition(
    request: Request,
    claims: Claims,
    body: Annotated[DefinitionIn, Depends(json_body(DefinitionIn))],
) -> dict[str, Any]:
    if not claims.allows("definition"):
        raise LinkTokenInvalid(
            "this link token may not change the definition: issue it with allow_definition"
        )
    engine, stored = _scoped(request, claims)
    stored = engine.link(stored.connection_id, stored.connector, stored.settings, body.objects)
    return _summary(engine, stored, claims)
