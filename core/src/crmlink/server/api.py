"""The HTTP API: the seed's invoke endpoints and the admin API, each scoped to the calling app."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from crmlink.engine import Engine
from crmlink.server.auth import BASIC_AUTH_OPENAPI, AppId, authenticate_invocation
from crmlink.server.bodies import json_body, json_object, openapi_body, parse_model
from crmlink.server.schemas import (
    CatalogList,
    CatalogObjectOut,
    ConnectionIn,
    ConnectionList,
    ConnectionOut,
    ErrorEnvelope,
    HealthOut,
    InvocationList,
    InvocationOut,
    InvokeIn,
    InvokeOut,
    MappingOut,
)
from crmlink.store.base import StoredConnection

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/crm")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "The body is not JSON, not an object, or malformed.",
        401: "Missing or wrong credentials.",
        404: "Unknown connection, object, event or record (or another app's).",
        409: "Idempotency key reused with another body or still running; record of another type.",
        413: "The body is over the size limit.",
        422: "Invalid payload, definition, settings or mapping; not mapped; refused by the CRM.",
        424: "The CRM credentials are expired, revoked or lack scopes.",
        429: "The CRM's rate limit, after bounded retries (see Retry-After).",
        502: "The CRM failed or timed out after bounded retries.",
    }
    return {
        code: {"model": ErrorEnvelope, "description": described[code]}
        for code in (400, 401, 413, *codes)
    }


_INVOKE_ERRORS = _errors(404, 409, 422, 424, 429, 502)
_ADMIN_ERRORS = _errors(404, 422)
_CRM_ERRORS = _errors(404, 424, 429, 502)

ConnectionID = Annotated[
    str, Path(alias="connectionID", description="Chosen by the app, e.g. its customer id.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="A retry with the same key and body returns the first answer, writing nothing.",
    ),
]


def _engine(request: Request, app_id: str) -> Engine:
    engine: Engine = request.app.state.engine
    return engine.for_app(app_id)


def _connection_out(engine: Engine, stored: StoredConnection) -> ConnectionOut:
    return ConnectionOut(
        id=stored.connection_id,
        connector=stored.connector,
        settings=engine.masked_settings(stored),
        objects=stored.definition,
        mapping_status=engine.mapping_status(stored.connection_id),
        created_at=stored.created_at,
        updated_at=stored.updated_at,
    )


def _invoke(
    request: Request,
    raw_body: bytes,
    connection_id: str,
    object: str,
    event: str,
    record_id: str | None,
    idempotency_key: str | None,
) -> Response:
    """One invocation, start to finish, in one worker thread: authenticate, parse, invoke.

    The invoke routes are the hot path: they make one thread hop per request, keep every
    database call off the event loop (see ``crmlink.server.auth.authenticate``) and read the
    key and the connection's version in one query. Under load each database call costs far more
    than its own time (every call hands the GIL to another thread and waits to get it back), so
    the number of calls is what this path minimises. The checks run in the same order as on the
    other routes: credentials, then the body.
    """
    app_id, version = authenticate_invocation(request, connection_id)
    body = parse_model(InvokeIn, raw_body, request.headers.get("content-type"))
    engine: Engine = request.app.state.engine
    known = {connection_id: version} if version is not None else None
    result = engine.for_app(app_id, known_versions=known).invoke(
        connection_id,
        object,
        event,
        body.payload,
        record_id=record_id,
        idempotency_key=idempotency_key,
    )
    # Built by the engine in the documented shape; serializing it directly skips a second
    # validation pass through the response model.
    return JSONResponse(result.as_dict())


# -- invoking (the seed's API) ------------------------------------------------------------------
@router.post(
    "/{connectionID}/objects/{object}/events/{event}",
    response_model=InvokeOut,
    response_model_exclude_none=True,
    responses=_INVOKE_ERRORS,
    summary="Invoke a create event",
    tags=["events"],
    openapi_extra={**openapi_body(InvokeIn), **BASIC_AUTH_OPENAPI},
)
async def invoke_create(
    request: Request,
    connection_id: ConnectionID,
    object: str,
    event: str,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    raw_body = await request.body()
    return await run_in_threadpool(
        _invoke, request, raw_body, connection_id, object, event, None, idempotency_key
    )


@router.post(
    "/{connectionID}/objects/{object}/{recordID}/events/{event}",
    response_model=InvokeOut,
    response_model_exclude_none=True,
    responses=_INVOKE_ERRORS,
    summary="Invoke an update or delete event on a record",
    tags=["events"],
    openapi_extra={**openapi_body(InvokeIn), **BASIC_AUTH_OPENAPI},
)
async def invoke_on_record(
    request: Request,
    connection_id: ConnectionID,
    object: str,
    record_id: Annotated[str, Path(alias="recordID", description="e.g. `Opportunity:0065g…`")],
    event: str,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    raw_body = await request.body()
    return await run_in_threadpool(
        _invoke, request, raw_body, connection_id, object, event, record_id, idempotency_key
    )


# -- connections --------------------------------------------------------------------------------
@router.get(
    "",
    response_model=ConnectionList,
    responses=_errors(),
    tags=["connections"],
    summary="List connections",
)
def list_connections(
    request: Request,
    app_id: AppId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(description="The last id of the previous page.")] = None,
) -> ConnectionList:
    engine = _engine(request, app_id)
    page = engine.connections(limit=limit + 1, after=after)
    more = len(page) > limit
    page = page[:limit]
    return ConnectionList(
        connections=[_connection_out(engine, c) for c in page],
        next=page[-1].connection_id if more and page else None,
    )


@router.put(
    "/{connectionID}",
    response_model=ConnectionOut,
    responses=_ADMIN_ERRORS,
    tags=["connections"],
    summary="Create or update a connection and its definition",
    openapi_extra=openapi_body(ConnectionIn),
)
def put_connection(
    request: Request,
    app_id: AppId,
    connection_id: ConnectionID,
    body: Annotated[ConnectionIn, Depends(json_body(ConnectionIn))],
) -> ConnectionOut:
    engine = _engine(request, app_id)
    stored = engine.link(connection_id, body.connector, body.settings, body.objects)
    return _connection_out(engine, stored)


@router.get(
    "/{connectionID}",
    response_model=ConnectionOut,
    responses=_ADMIN_ERRORS,
    tags=["connections"],
    summary="Read a connection",
)
def get_connection(request: Request, app_id: AppId, connection_id: ConnectionID) -> ConnectionOut:
    engine = _engine(request, app_id)
    return _connection_out(engine, engine.connection(connection_id))


@router.delete(
    "/{connectionID}",
    status_code=204,
    responses=_ADMIN_ERRORS,
    tags=["connections"],
    summary="Delete a connection, its mapping and its log",
)
def delete_connection(request: Request, app_id: AppId, connection_id: ConnectionID) -> Response:
    _engine(request, app_id).unlink(connection_id)
    return Response(status_code=204)


@router.get(
    "/{connectionID}/health",
    response_model=HealthOut,
    responses=_CRM_ERRORS,
    tags=["connections"],
    summary="Check the connection's CRM credentials",
)
def connection_health(request: Request, app_id: AppId, connection_id: ConnectionID) -> HealthOut:
    health = _engine(request, app_id).health(connection_id)
    return HealthOut(**health.model_dump())


# -- catalog and mapping ------------------------------------------------------------------------
@router.get(
    "/{connectionID}/catalog",
    response_model=CatalogList,
    responses=_CRM_ERRORS,
    tags=["mapping"],
    summary="The CRM's objects",
)
def catalog(request: Request, app_id: AppId, connection_id: ConnectionID) -> CatalogList:
    return CatalogList(objects=_engine(request, app_id).catalog(connection_id))


@router.get(
    "/{connectionID}/catalog/{crmObject}",
    response_model=CatalogObjectOut,
    responses=_CRM_ERRORS,
    tags=["mapping"],
    summary="One CRM object and its fields",
)
def catalog_object(
    request: Request,
    app_id: AppId,
    connection_id: ConnectionID,
    crm_object: Annotated[str, Path(alias="crmObject")],
) -> CatalogObjectOut:
    return _engine(request, app_id).catalog_object(connection_id, crm_object)


@router.get(
    "/{connectionID}/mapping",
    response_model=MappingOut,
    responses=_ADMIN_ERRORS,
    tags=["mapping"],
    summary="Read the end user's mapping",
)
def get_mapping(request: Request, app_id: AppId, connection_id: ConnectionID) -> MappingOut:
    engine = _engine(request, app_id)
    stored = engine.connection(connection_id)
    return MappingOut(mapping=stored.mapping, mapping_status=engine.mapping_status(connection_id))


@router.put(
    "/{connectionID}/mapping",
    response_model=MappingOut,
    responses={**_ADMIN_ERRORS, **_CRM_ERRORS},
    tags=["mapping"],
    summary="Save the mapping, validated against the live catalog",
    openapi_extra=openapi_body(None, 'The mapping: `{"objects": {...}}`.'),
)
def put_mapping(
    request: Request,
    app_id: AppId,
    connection_id: ConnectionID,
    mapping: Annotated[dict[str, Any], Depends(json_object)],
) -> MappingOut:
    engine = _engine(request, app_id)
    stored = engine.set_mapping(connection_id, mapping)
    return MappingOut(mapping=stored.mapping, mapping_status=engine.mapping_status(connection_id))


# -- audit log ----------------------------------------------------------------------------------
@router.get(
    "/{connectionID}/invocations",
    response_model=InvocationList,
    responses=_ADMIN_ERRORS,
    tags=["connections"],
    summary="The audit log, newest first",
)
def invocations(
    request: Request,
    app_id: AppId,
    connection_id: ConnectionID,
    event: str | None = None,
    status: Annotated[str | None, Query(pattern="^(succeeded|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(description="The last id of the previous page.")] = None,
) -> InvocationList:
    logs = _engine(request, app_id).invocations(
        connection_id, event=event, status=status, limit=limit + 1, before=before
    )
    more = len(logs) > limit
    logs = logs[:limit]
    return InvocationList(
        invocations=[InvocationOut(**log.as_dict()) for log in logs],
        next=logs[-1].id if more and logs else None,
    )
