"""The emulator's ASGI app: HubSpot's CRM REST API over a :class:`PortalStore`.

Every API request passes, in order: injected latency, one-shot faults, a forced 5xx, bearer
authentication (401 INVALID_AUTHENTICATION / EXPIRED_AUTHENTICATION), scopes (403
MISSING_SCOPES), the forced daily limit and the rolling burst limit (429), then its handler.
Every answer carries ``X-HubSpot-Correlation-Id`` and the ``X-HubSpot-RateLimit-*`` headers.
Success codes are exactly the ones hubspot-api-client expects (reference/crm-apis.md B4).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmlink_hubspot.emulator.batch import check_inputs, run_batch
from crmlink_hubspot.emulator.control import EmulatorControl, Occurrence
from crmlink_hubspot.emulator.errors import ApiError
from crmlink_hubspot.emulator.ratelimit import RateLimiter, daily_limit_error
from crmlink_hubspot.emulator.schema import ObjectSchema, PropertySchema, format_time
from crmlink_hubspot.emulator.search import search_records
from crmlink_hubspot.emulator.store import PortalStore, StoredRecord

__all__ = ["RequestCounter", "build_app"]

Handler = Callable[[Request], Awaitable[Response]]

_TYPE_ENDPOINTS: dict[int, tuple[str, str]] = {
    1: ("contacts", "companies"),
    2: ("companies", "contacts"),
    3: ("deals", "contacts"),
    4: ("contacts", "deals"),
    5: ("deals", "companies"),
    6: ("companies", "deals"),
    279: ("contacts", "companies"),
    280: ("companies", "contacts"),
    341: ("deals", "companies"),
    342: ("companies", "deals"),
}


class RequestCounter:
    """HTTP requests received by the emulator's API (the control surface is not counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.rate_limited = 0

    def hit(self) -> None:
        with self._lock:
            self.count += 1

    def limited(self) -> None:
        with self._lock:
            self.rate_limited += 1

    def reset(self) -> None:
        with self._lock:
            self.count = 0
            self.rate_limited = 0


def _now() -> str:
    return format_time(datetime.now(UTC))


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type="application/json;charset=utf-8",
    )


def _empty(status: int = 204) -> Response:
    return Response(status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(
            status=400, category="VALIDATION_ERROR", message="Invalid input JSON"
        ) from exc


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _wanted(request: Request, schema: ObjectSchema) -> list[str]:
    names: list[str] = []
    for raw in request.query_params.getlist("properties"):
        names.extend(n for n in raw.split(",") if n)
    return names or schema.default_properties


class _Api:
    """Route handlers bound to one portal's store, control and limiter."""

    def __init__(
        self,
        store: PortalStore,
        control: EmulatorControl,
        limiter: RateLimiter,
        counter: RequestCounter,
    ) -> None:
        self.store = store
        self.control = control
        self.limiter = limiter
        self.counter = counter

    # -- the gate every API request passes -----------------------------------------------------
    def guarded(self, scope_of: Callable[[Request], str] | None, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            self.counter.hit()
            headers: dict[str, str] = {"X-HubSpot-Correlation-Id": str(uuid.uuid4())}
            try:
                if scope_of is not None:
                    self._gate(request, scope_of(request))
                    limits = self.limiter.admit(self.store.schema.portal_id)
                    if self.control.is_oauth(_bearer(request)):
                        # HubSpot sends no daily-limit headers on OAuth (public app) calls
                        limits = {k: v for k, v in limits.items() if "Daily" not in k}
                    headers.update(limits)
                response = await handler(request)
            except ApiError as err:
                if err.status == 429:
                    self.counter.limited()
                headers.update(err.headers)
                response = _json(err.body(), err.status)
            if self.control.latency:  # the work is done; only the answer is late
                await asyncio.sleep(self.control.latency)
            response.headers.update(headers)
            return response

        return endpoint

    def _gate(self, request: Request, scope: str) -> None:
        fault = self.control.take_one_shot()
        if fault is not None:
            raise self._fault_error(fault.status, fault.policy)
        if self.control.unavailable_status is not None:
            raise self._fault_error(self.control.unavailable_status, "")
        state = self.control.token_state(_bearer(request))
        if state == "invalid":
            raise ApiError(
                status=401,
                category="INVALID_AUTHENTICATION",
                message=(
                    "Authentication credentials not found. This API supports OAuth 2.0 "
                    "authentication and you can find more details at "
                    "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
                ),
            )
        if state == "expired":
            raise ApiError(
                status=401,
                category="EXPIRED_AUTHENTICATION",
                message="The OAuth token used to make this call expired 7 second(s) ago.",
            )
        if scope in self.control.revoked_scopes:
            raise ApiError(
                status=403,
                category="MISSING_SCOPES",
                message=(
                    "This app hasn't been granted all required scopes to make this call. "
                    "Read more about required scopes here: https://developers.hubspot.com/scopes."
                ),
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": [scope]},
                    }
                ],
                extra={"links": {"scopes": "https://developers.hubspot.com/scopes"}},
            )
        if self.control.daily_exhausted:
            raise daily_limit_error(self.limiter.headers_now(exhausted_daily=True))

    def _fault_error(self, status: int, policy: str) -> ApiError:
        if status == 429:
            if policy == "DAILY":
                return daily_limit_error(self.limiter.headers_now(exhausted_daily=True))
            return ApiError(
                status=429,
                category="RATE_LIMITS",
                message="You have reached your ten_secondly_rolling limit.",
                extra={"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
                headers=self.limiter.headers_now() | {"X-HubSpot-RateLimit-Remaining": "0"},
            )
        if status >= 500:
            return ApiError(
                status=status,
                category="INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE",
                message="The service is temporarily unavailable. Please try again later.",
            )
        return ApiError(status=status, category="VALIDATION_ERROR", message="Injected failure")

    # -- objects -------------------------------------------------------------------------------
    def _schema(self, request: Request) -> ObjectSchema:
        return self.store.object_schema(request.path_params["objectType"])

    async def create(self, request: Request) -> Response:
        schema = self._schema(request)
        body = await _body(request)
        if not isinstance(body, dict):
            raise ApiError(status=400, category="VALIDATION_ERROR", message="Invalid input JSON")
        with self.store._lock:
            links = self._planned_associations(schema, body.get("associations") or [])
            record = self.store.create(schema, body.get("properties") or {})
            for to_schema, to_id, specs in links:
                self.store.associate(schema, record.id, to_schema, to_id, specs)
        return _json(record.as_api(), 201)

    def _planned_associations(
        self, schema: ObjectSchema, raw: Any
    ) -> list[tuple[ObjectSchema, str, list[tuple[str, int]]]]:
        planned = []
        for entry in raw if isinstance(raw, list) else []:
            to_id = str((entry.get("to") or {}).get("id", ""))
            specs = [
                (str(t.get("associationCategory")), int(t.get("associationTypeId", 0)))
                for t in entry.get("types") or []
            ]
            ends = _TYPE_ENDPOINTS.get(specs[0][1]) if specs else None
            to_schema = self.store.schema.find(ends[1]) if ends and ends[0] == schema.name else None
            if to_schema is None or to_id not in self.store._bucket(to_schema).records:
                raise ApiError(
                    status=400,
                    category="VALIDATION_ERROR",
                    message="One or more associations are invalid",
                    context={"toObjectId": [to_id]},
                )
            planned.append((to_schema, to_id, specs))
        return planned

    async def get_page(self, request: Request) -> Response:
        schema = self._schema(request)
        limit = int(request.query_params.get("limit", "10"))
        if not 1 <= limit <= 100:
            raise ApiError(400, "VALIDATION_ERROR", "limit must be between 1 and 100")
        records, after = self.store.page(schema, limit, request.query_params.get("after"))
        names = _wanted(request, schema)
        body: dict[str, Any] = {"results": [r.as_api(names) for r in records]}
        if after is not None:
            link = f"{request.base_url}crm/v3/objects/{schema.name}?after={after}"
            body["paging"] = {"next": {"after": after, "link": link}}
        return _json(body)

    async def get_by_id(self, request: Request) -> Response:
        schema = self._schema(request)
        id_property = request.query_params.get("idProperty")
        record = self.store.find(schema, request.path_params["objectId"], id_property)
        body = record.as_api(_wanted(request, schema))
        wanted_assocs = [
            n for raw in request.query_params.getlist("associations") for n in raw.split(",") if n
        ]
        if wanted_assocs:
            body["associations"] = self._v3_associations(schema, record, wanted_assocs)
        return _json(body)

    def _v3_associations(
        self, schema: ObjectSchema, record: StoredRecord, wanted: list[str]
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in wanted:
            to_schema = self.store.schema.find(name)
            if to_schema is None:
                continue
            links = self.store.associations(schema, record.id, to_schema)
            if links:
                found[to_schema.name] = {
                    "results": [
                        {"id": to_id, "type": f"{schema.name[:-1]}_to_{to_schema.name[:-1]}"}
                        for to_id in links
                    ]
                }
        return found

    async def update(self, request: Request) -> Response:
        schema = self._schema(request)
        body = await _body(request)
        props = body.get("properties") if isinstance(body, dict) else None
        record = self.store.update(
            schema,
            request.path_params["objectId"],
            props or {},
            request.query_params.get("idProperty"),
        )
        return _json(record.as_api())

    async def archive(self, request: Request) -> Response:
        self.store.archive(self._schema(request), request.path_params["objectId"])
        return _empty()

    # -- batch ---------------------------------------------------------------------------------
    async def batch(self, request: Request) -> Response:
        schema = self._schema(request)
        action = request.path_params["action"]
        body = await _body(request)
        if action == "read":
            return self._batch_read(schema, body)
        inputs = check_inputs(body)
        if action == "archive":
            for item in inputs:
                self.store.archive(schema, str(item.get("id", "")))
            return _empty()
        started = _now()

        def create(item: dict[str, Any]) -> dict[str, Any]:
            links = self._planned_associations(schema, item.get("associations") or [])
            record = self.store.create(schema, item.get("properties") or {})
            for to_schema, to_id, specs in links:
                self.store.associate(schema, record.id, to_schema, to_id, specs)
            return record.as_api() | _trace(item)

        def update(item: dict[str, Any]) -> dict[str, Any]:
            record = self.store.update(
                schema,
                str(item.get("id", "")),
                item.get("properties") or {},
                item.get("idProperty"),
            )
            return record.as_api() | _trace(item)

        def upsert(item: dict[str, Any]) -> dict[str, Any]:
            id_property = item.get("idProperty")
            if not id_property:
                raise ApiError(400, "VALIDATION_ERROR", "idProperty is required for upsert")
            record, new = self.store.upsert(
                schema, str(item.get("id", "")), id_property, item.get("properties") or {}
            )
            return record.as_api() | {"new": new} | _trace(item)

        handlers = {"create": create, "update": update, "upsert": upsert}
        if action not in handlers:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Unknown batch action {action}")
        outcome = run_batch(self.store, schema, inputs, handlers[action])
        body_out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": outcome.results,
            "requestedAt": started,
            "startedAt": started,
            "completedAt": _now(),
            "links": {},
        }
        if outcome.errors:
            body_out["numErrors"] = len(outcome.errors)
            body_out["errors"] = outcome.errors
            return _json(body_out, 207)
        return _json(body_out, 201 if action == "create" else 200)

    def _batch_read(self, schema: ObjectSchema, body: Any) -> Response:
        inputs = check_inputs(body)
        started = _now()
        names = body.get("properties") or schema.default_properties
        id_property = body.get("idProperty")
        results, missing = [], []
        for item in inputs:
            try:
                record = self.store.find(schema, str(item.get("id", "")), id_property)
            except ApiError as err:
                if err.status != 404:
                    raise
                missing.append(str(item.get("id", "")))
                continue
            results.append(record.as_api(names))
        body_out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now(),
        }
        if missing:
            label = schema.singular.upper()
            body_out["numErrors"] = 1
            body_out["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": (
                        f"Could not get some {label} objects, they may be deleted or not exist. "
                        "Check that ids are valid."
                    ),
                    "context": {"ids": missing},
                    "errors": [],
                    "links": {},
                }
            ]
            return _json(body_out, 207)
        return _json(body_out)

    async def search(self, request: Request) -> Response:
        schema = self._schema(request)
        body = await _body(request)
        return _json(search_records(self.store, schema, body if isinstance(body, dict) else {}))

    # -- properties ----------------------------------------------------------------------------
    async def properties(self, request: Request) -> Response:
        schema = self._schema(request)
        when = "2020-01-01T00:00:00.000Z"
        return _json({"results": [p.as_api(when) for p in schema.properties.values()]})

    async def property_by_name(self, request: Request) -> Response:
        schema = self._schema(request)
        name = request.path_params["propertyName"]
        prop = schema.properties.get(name)
        if prop is None:
            raise ApiError(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find property {name} on object type {schema.object_type_id}",
            )
        return _json(prop.as_api("2020-01-01T00:00:00.000Z"))

    async def create_property(self, request: Request) -> Response:
        schema = self._schema(request)
        body = await _body(request)
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if k not in body]
        if missing:
            raise ApiError(400, "VALIDATION_ERROR", f"Missing required fields: {missing}")
        if body["name"] in schema.properties:
            raise ApiError(
                409, "OBJECT_ALREADY_EXISTS", f"A property named '{body['name']}' already exists."
            )
        prop = PropertySchema.from_json({**body, "hubspotDefined": False})
        with self.store._lock:
            schema.properties[prop.name] = prop
        return _json(prop.as_api(_now()), 201)

    def _own_property(self, request: Request) -> tuple[ObjectSchema, PropertySchema]:
        schema = self._schema(request)
        name = request.path_params["propertyName"]
        prop = schema.properties.get(name)
        if prop is None:
            raise ApiError(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find property {name} on object type {schema.object_type_id}",
            )
        return schema, prop

    async def update_property(self, request: Request) -> Response:
        schema, prop = self._own_property(request)
        body = await _body(request)
        if prop.hubspot_defined and set(body) - {"label", "description", "groupName", "options"}:
            raise ApiError(400, "VALIDATION_ERROR", f"The definition of {prop.name} is read-only")
        merged = prop.as_api(_now()) | {"readOnlyValue": prop.read_only_value} | body
        updated = PropertySchema.from_json(merged | {"hubspotDefined": prop.hubspot_defined})
        updated.validation = prop.validation
        with self.store._lock:
            schema.properties[prop.name] = updated
        return _json(updated.as_api(_now()))

    async def archive_property(self, request: Request) -> Response:
        schema, prop = self._own_property(request)
        if prop.hubspot_defined:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"{prop.name} is a HubSpot-defined property and cannot be archived",
            )
        with self.store._lock:
            del schema.properties[prop.name]
        return _empty()

    # -- custom object schemas -----------------------------------------------------------------
    def _schema_api(self, schema: ObjectSchema) -> dict[str, Any]:
        when = "2020-01-01T00:00:00.000Z"
        return {
            "id": schema.object_type_id.split("-", 1)[1],
            "objectTypeId": schema.object_type_id,
            "name": schema.name,
            "fullyQualifiedName": schema.fully_qualified_name or schema.name,
            "labels": {"singular": schema.singular, "plural": schema.plural},
            "requiredProperties": schema.required,
            "searchableProperties": schema.default_properties,
            "primaryDisplayProperty": (schema.default_properties or ["hs_object_id"])[0],
            "secondaryDisplayProperties": schema.default_properties[1:],
            "properties": [p.as_api(when) for p in schema.properties.values()],
            "associations": [],
            "archived": False,
            "createdAt": when,
            "updatedAt": when,
        }

    async def schemas(self, request: Request) -> Response:
        custom = [s for s in self.store.schema.objects.values() if s.custom]
        return _json({"results": [self._schema_api(s) for s in custom]})

    async def schema_by_id(self, request: Request) -> Response:
        schema = self.store.schema.find(request.path_params["objectType"])
        if schema is None or not schema.custom:
            raise ApiError(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find object type {request.path_params['objectType']}",
            )
        return _json(self._schema_api(schema))

    # -- associations v4 -----------------------------------------------------------------------
    def _pair(self, request: Request) -> tuple[ObjectSchema, str, ObjectSchema]:
        p = request.path_params
        from_type = p.get("objectType") or p["fromObjectType"]
        from_id = p.get("objectId") or p["fromObjectId"]
        return (
            self.store.object_schema(from_type),
            from_id,
            self.store.object_schema(p["toObjectType"]),
        )

    async def assoc_create(self, request: Request) -> Response:
        from_schema, from_id, to_schema = self._pair(request)
        to_id = request.path_params["toObjectId"]
        raw = await _body(request)
        specs = [
            (str(s.get("associationCategory")), int(s.get("associationTypeId", 0)))
            for s in (raw if isinstance(raw, list) else [])
        ]
        if not specs:
            raise ApiError(400, "VALIDATION_ERROR", "At least one association type is required")
        self.store.associate(from_schema, from_id, to_schema, to_id, specs)
        return _json(
            {
                "fromObjectTypeId": from_schema.object_type_id,
                "fromObjectId": from_id,
                "toObjectTypeId": to_schema.object_type_id,
                "toObjectId": to_id,
                "labels": [],
            },
            201,
        )

    async def assoc_default(self, request: Request) -> Response:
        from_schema, from_id, to_schema = self._pair(request)
        to_id = request.path_params["toObjectId"]
        specs = self.store.associate(from_schema, from_id, to_schema, to_id, None)
        now = _now()
        return _json(
            {
                "status": "COMPLETE",
                "results": [_default_result(from_id, to_id, specs[0])],
                "startedAt": now,
                "completedAt": now,
            }
        )

    async def assoc_page(self, request: Request) -> Response:
        from_schema, from_id, to_schema = self._pair(request)
        self.store.find(from_schema, from_id)
        links = self.store.associations(from_schema, from_id, to_schema)
        return _json({"results": [_multi(to_id, specs) for to_id, specs in links.items()]})

    async def assoc_archive(self, request: Request) -> Response:
        from_schema, from_id, to_schema = self._pair(request)
        self.store.dissociate(from_schema, from_id, to_schema, request.path_params["toObjectId"])
        return _empty()

    async def assoc_batch(self, request: Request) -> Response:
        p = request.path_params
        from_schema = self.store.object_schema(p["fromObjectType"])
        to_schema = self.store.object_schema(p["toObjectType"])
        action = p["action"]
        body = await _body(request)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON")
        if action not in ("create", "associate/default", "read", "archive"):
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Unknown batch action {action}")
        started = _now()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in inputs:
            from_id = str((item.get("from") or {}).get("id", item.get("id", "")))
            try:
                if action == "archive":
                    for to in item.get("to") or []:
                        self.store.dissociate(from_schema, from_id, to_schema, str(to.get("id")))
                    continue
                if action == "read":
                    self.store.find(from_schema, from_id)
                    links = self.store.associations(from_schema, from_id, to_schema)
                    results.append(
                        {
                            "from": {"id": from_id},
                            "to": [_multi(t, s) for t, s in links.items()],
                        }
                    )
                    continue
                to_id = str((item.get("to") or {}).get("id", ""))
                if action == "create":
                    specs = [
                        (str(t.get("associationCategory")), int(t.get("associationTypeId", 0)))
                        for t in item.get("types") or []
                    ]
                    self.store.associate(from_schema, from_id, to_schema, to_id, specs or None)
                    results.append(
                        {
                            "fromObjectTypeId": from_schema.object_type_id,
                            "fromObjectId": from_id,
                            "toObjectTypeId": to_schema.object_type_id,
                            "toObjectId": to_id,
                            "labels": [],
                        }
                    )
                else:
                    specs = self.store.associate(from_schema, from_id, to_schema, to_id, None)
                    results.append(_default_result(from_id, to_id, specs[0]))
            except ApiError as err:
                errors.append(err.batch_entry(None))
        if action == "archive":
            return _empty()
        out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now(),
        }
        if errors:
            out["numErrors"] = len(errors)
            out["errors"] = errors
            return _json(out, 207)
        return _json(out, 201 if action == "create" else 200)

    # -- events and OAuth ----------------------------------------------------------------------
    async def send_event(self, request: Request) -> Response:
        body = await _body(request)
        self._accept_occurrence(body)
        return _empty()

    async def send_events(self, request: Request) -> Response:
        body = await _body(request)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON")
        for item in inputs:
            self._accept_occurrence(item)
        return _empty()

    def _accept_occurrence(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("eventName"):
            raise ApiError(400, "VALIDATION_ERROR", "eventName is required")
        name = str(body["eventName"])
        definition = self.store.schema.events.get(name)
        if definition is None:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"Event definition with name {name} does not exist",
                context={"eventName": [name]},
            )
        props = body.get("properties") or {}
        unknown = sorted(set(props) - set(definition.properties))
        if unknown:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"Properties {unknown} are not defined on event {name}",
                context={"propertyName": unknown},
            )
        self.control.record_occurrence(
            Occurrence(
                event_name=name,
                properties={k: ("" if v is None else str(v)) for k, v in props.items()},
                object_id=str(body["objectId"]) if body.get("objectId") is not None else None,
                email=body.get("email"),
                occurred_at=body.get("occurredAt"),
                raw=body,
            )
        )

    async def oauth_token(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        values = {k: v[0] for k, v in form.items() if v}
        if values.get("grant_type") != "refresh_token":
            return _json(
                {
                    "status": "BAD_GRANT_TYPE",
                    "message": "grant_type must be refresh_token",
                    "correlationId": str(uuid.uuid4()),
                },
                400,
            )
        token = self.control.refresh(
            values.get("client_id", ""),
            values.get("client_secret", ""),
            values.get("refresh_token", ""),
        )
        if token is None:
            return _json(
                {
                    "status": "BAD_REFRESH_TOKEN",
                    "message": "missing or unknown refresh token",
                    "correlationId": str(uuid.uuid4()),
                },
                400,
            )
        return _json(
            {
                "token_type": "bearer",
                "refresh_token": self.control.refresh_token,
                "access_token": token,
                "expires_in": 1800,
            }
        )


def _trace(item: dict[str, Any]) -> dict[str, Any]:
    trace = item.get("objectWriteTraceId")
    return {"objectWriteTraceId": str(trace)} if trace else {}


def _default_result(from_id: str, to_id: str, spec: tuple[str, int]) -> dict[str, Any]:
    return {
        "from": {"id": from_id},
        "to": {"id": to_id},
        "associationSpec": {"associationCategory": spec[0], "associationTypeId": spec[1]},
    }


def _multi(to_id: str, specs: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "toObjectId": to_id,
        "associationTypes": [{"category": c, "typeId": t, "label": None} for c, t in specs],
    }


def _object_scope(kind: str) -> Callable[[Request], str]:
    def scope(request: Request) -> str:
        object_type = (
            request.path_params.get("objectType") or request.path_params.get("fromObjectType") or ""
        )
        name = object_type.lower()
        if name.startswith(("2-", "p")) and name not in ("contacts", "companies", "deals"):
            name = "custom"
        elif name in ("0-1", "0-2", "0-3"):
            name = {"0-1": "contacts", "0-2": "companies", "0-3": "deals"}[name]
        if kind == "schema":
            access = "read" if request.method == "GET" else "write"
            return f"crm.schemas.{name}.{access}"
        write = request.method in (
            "POST",
            "PATCH",
            "PUT",
            "DELETE",
        ) and not request.url.path.endswith(("/search", "/batch/read"))
        return f"crm.objects.{name}.{'write' if write else 'read'}"

    return scope


def build_app(
    store: PortalStore,
    control: EmulatorControl,
    limiter: RateLimiter,
    counter: RequestCounter,
    extra_routes: list[Route] | None = None,
) -> Starlette:
    """The HubSpot API as an ASGI app (plus ``extra_routes``, e.g. the control surface)."""
    api = _Api(store, control, limiter, counter)
    objects = _object_scope("objects")
    schemas = _object_scope("schema")

    def custom_schemas(request: Request) -> str:
        return "crm.schemas.custom.read"

    def events_scope(request: Request) -> str:
        return "analytics.behavioral_events.send"

    def route(path: str, handler: Handler, methods: list[str], scope: Any = objects) -> Route:
        return Route(path, api.guarded(scope, handler), methods=methods)

    v3 = "/crm/v3/objects/{objectType}"
    v4 = "/crm/v4/objects/{objectType}/{objectId}/associations"
    routes = [
        route("/oauth/v1/token", api.oauth_token, ["POST"], None),
        route("/crm/v3/properties/{objectType}", api.properties, ["GET"], schemas),
        route("/crm/v3/properties/{objectType}", api.create_property, ["POST"], schemas),
        route(
            "/crm/v3/properties/{objectType}/{propertyName}", api.property_by_name, ["GET"], schemas
        ),
        route(
            "/crm/v3/properties/{objectType}/{propertyName}",
            api.update_property,
            ["PATCH"],
            schemas,
        ),
        route(
            "/crm/v3/properties/{objectType}/{propertyName}",
            api.archive_property,
            ["DELETE"],
            schemas,
        ),
        *[
            route(prefix, api.schemas, ["GET"], custom_schemas)
            for prefix in ("/crm/v3/schemas", "/crm-object-schemas/v3/schemas")
        ],
        *[
            route(prefix + "/{objectType}", api.schema_by_id, ["GET"], custom_schemas)
            for prefix in ("/crm/v3/schemas", "/crm-object-schemas/v3/schemas")
        ],
        route(v3 + "/batch/{action}", api.batch, ["POST"]),
        route(v3 + "/search", api.search, ["POST"]),
        route(v3, api.get_page, ["GET"]),
        route(v3, api.create, ["POST"]),
        route(v3 + "/{objectId}", api.get_by_id, ["GET"]),
        route(v3 + "/{objectId}", api.update, ["PATCH"]),
        route(v3 + "/{objectId}", api.archive, ["DELETE"]),
        route(v4 + "/default/{toObjectType}/{toObjectId}", api.assoc_default, ["PUT"]),
        route(v4 + "/{toObjectType}/{toObjectId}", api.assoc_create, ["PUT"]),
        route(v4 + "/{toObjectType}/{toObjectId}", api.assoc_archive, ["DELETE"]),
        route(v4 + "/{toObjectType}", api.assoc_page, ["GET"]),
        route(
            "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/{action:path}",
            api.assoc_batch,
            ["POST"],
        ),
        route("/events/v3/send", api.send_event, ["POST"], events_scope),
        route("/events/v3/send/batch", api.send_events, ["POST"], events_scope),
    ]
    return Starlette(routes=[*routes, *(extra_routes or [])])
