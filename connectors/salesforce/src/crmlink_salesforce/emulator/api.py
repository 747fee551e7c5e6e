"""The emulated Salesforce REST API, independent of the web framework.

:class:`SalesforceApi` answers one HTTP request (method, path, query, headers, body) with a
:class:`Reply`. It authenticates, enforces the daily request limit and the switched-on faults,
then dispatches to the REST resources simple-salesforce and the connector use: sObject rows,
describe, upsert by external id, SOQL query with paging, sObject Collections, Composite,
``limits/``, Platform Event publishing and the OAuth token endpoint. Composite subrequests run
through the same dispatcher, without being counted or authenticated again.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from crmlink_salesforce.emulator.bulk2 import Bulk2
from crmlink_salesforce.emulator.errors import ApiError
from crmlink_salesforce.emulator.ids import normalize_id, to18
from crmlink_salesforce.emulator.reply import Reply
from crmlink_salesforce.emulator.schema import ObjectDef, OrgSchema
from crmlink_salesforce.emulator.soql import parse_query
from crmlink_salesforce.emulator.store import DEFAULT_USER_ID, OrgStore

__all__ = ["Faults", "OAuthClient", "Reply", "SalesforceApi"]

_log = logging.getLogger("crmlink_salesforce.emulator")

ORG_ID = "00D5g0000000001EAA"
_VERSION = re.compile(r"^v(\d{2,3}\.\d)$")
_MIN_VERSION, _MAX_VERSION = 31.0, 62.0
_REF = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_MAX_COLLECTION = 200
_MAX_COMPOSITE = 25
_MAX_COMPOSITE_HEAVY = 5
_NOT_FOUND = ApiError(404, "NOT_FOUND", "The requested resource does not exist")


@dataclass
class Faults:
    """Faults switched on by tests: each applies to every API request until reset."""

    rate_limited: bool = False
    unavailable: int = 0
    """Answer 503 to this many requests (``-1``: to every request)."""
    unavailable_status: int = 503
    latency: float = 0.0
    """Seconds added before every answer."""

    def reset(self) -> None:
        self.rate_limited = False
        self.unavailable = 0
        self.unavailable_status = 503
        self.latency = 0.0


@dataclass
class OAuthClient:
    """The connected app and user the token endpoint accepts."""

    client_id: str = "crmlink-emulator"
    client_secret: str = "crmlink-emulator-secret"  # noqa: S105 - public emulator credentials
    username: str = "admin@crmlink.example"
    password: str = "password"  # noqa: S105
    refresh_token: str = "crmlink-emulator-refresh-token"  # noqa: S105


def _error_reply(error: ApiError) -> Reply:
    return Reply(error.status, error.as_body())


def _method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
    )


class SalesforceApi:
    """One emulated org's REST API: schema, records, tokens, limits and faults."""

    def __init__(
        self,
        schema: OrgSchema,
        *,
        token: str,
        daily_limit: int = 15000,
        query_batch_size: int = 2000,
        oauth: OAuthClient | None = None,
    ) -> None:
        self.schema = schema
        self.store = OrgStore(schema)
        self.faults = Faults()
        self.oauth = oauth or OAuthClient()
        self.initial_token = token
        self.daily_limit = daily_limit
        self.query_batch_size = query_batch_size
        self.api_used = 0
        self.request_count = 0
        self.lock = threading.RLock()
        """Held while a request is answered; take it to change state from another thread."""
        self._tokens: set[str] = {token}
        self._refresh_tokens: set[str] = {self.oauth.refresh_token}
        self._cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._cursor_seq = itertools.count(1)
        self.bulk2 = Bulk2(self.store)

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to an empty org with the initial token valid and no fault."""
        with self.lock:
            self.store.reset()
            self.faults.reset()
            self.api_used = 0
            self._tokens = {self.initial_token}
            self._refresh_tokens = {self.oauth.refresh_token}
            self._cursors.clear()
            self.bulk2.reset()

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 401 ``INVALID_SESSION_ID``."""
        with self.lock:
            self._tokens.clear()

    def restore_initial_token(self) -> None:
        """Make the initial access token valid again."""
        with self.lock:
            self._tokens.add(self.initial_token)

    def issue_token(self) -> str:
        """A new valid access token (as a successful OAuth grant issues)."""
        with self.lock:
            token = ORG_ID[:15] + "!" + secrets.token_urlsafe(32)
            self._tokens.add(token)
            return token

    @property
    def limit_header(self) -> str:
        return f"api-usage={self.api_used}/{self.daily_limit}"

    # -- entry point ------------------------------------------------------------------------
    def handle(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
        base_url: str,
    ) -> Reply:
        """Answer one HTTP request (``headers`` keys lower-case)."""
        with self.lock:
            self.request_count += 1
            if path.rstrip("/") == "/services/oauth2/token":
                return self._token(method, body, base_url)
            if not path.startswith("/services/data"):
                return _error_reply(_NOT_FOUND)
            outage = self._outage()
            if outage is not None:
                return outage
            segments = [s for s in path.split("/")[3:] if s]
            if not segments:
                return Reply(200, self._versions())
            version_match = _VERSION.match(segments[0])
            if version_match is None or not (
                _MIN_VERSION <= float(version_match[1]) <= _MAX_VERSION
            ):
                return _error_reply(_NOT_FOUND)
            if not self._authorized(headers.get("authorization", "")):
                return Reply(
                    401,
                    [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                )
            reply = self._limited()
            if reply is None:
                self.api_used += 1
                reply = self._authorized_request(
                    method, version_match[1], segments[1:], dict(query), headers, body
                )
            reply.headers.setdefault("Sforce-Limit-Info", self.limit_header)
            return reply

    def _outage(self) -> Reply | None:
        if not self.faults.unavailable:
            return None
        if self.faults.unavailable > 0:
            self.faults.unavailable -= 1
        message = "Service temporarily unavailable, please retry later"
        return Reply(
            self.faults.unavailable_status,
            [{"message": message, "errorCode": "SERVER_UNAVAILABLE"}],
        )

    def _limited(self) -> Reply | None:
        if not (self.faults.rate_limited or self.api_used >= self.daily_limit):
            return None
        used = self.daily_limit if self.faults.rate_limited else self.api_used
        return Reply(
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            {"Sforce-Limit-Info": f"api-usage={used}/{self.daily_limit}"},
        )

    def _authorized_request(
        self,
        method: str,
        version: str,
        segments: list[str],
        params: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply:
        try:
            if headers.get("content-type", "").startswith("text/csv"):
                parsed: Any = body.decode("utf-8", "replace")
            else:
                parsed = json.loads(body) if body.strip() else None
        except ValueError as exc:
            return _error_reply(ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}"))
        duplicate_header = headers.get("sforce-duplicate-rule-header", "").lower()
        self.store.allow_duplicate_save = "allowsave=true" in duplicate_header
        try:
            return self.dispatch(
                method,
                version,
                segments,
                params,
                parsed,
                batch_size=_batch_size(headers.get("sforce-query-options", "")),
            )
        finally:
            self.store.allow_duplicate_save = False

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        return scheme.lower() in ("bearer", "oauth") and token.strip() in self._tokens

    def _versions(self) -> list[dict[str, str]]:
        out = []
        major = int(_MIN_VERSION)
        while major <= _MAX_VERSION:
            out.append(
                {
                    "label": f"v{major}.0",
                    "url": f"/services/data/v{major}.0",
                    "version": f"{major}.0",
                }
            )
            major += 1
        return out

    # -- dispatch ---------------------------------------------------------------------------
    def dispatch(
        self,
        method: str,
        version: str,
        segments: list[str],
        params: dict[str, str],
        body: Any,
        *,
        batch_size: int | None = None,
    ) -> Reply:
        """Route one (already authenticated) REST request below ``/services/data/vXX.X``."""
        try:
            return self._route(method, version, segments, params, body, batch_size)
        except ApiError as error:
            return _error_reply(error)
        except Exception:  # an emulator bug: answer as Salesforce does, not with a traceback
            _log.exception("emulator failed on %s %s", method, "/".join(segments))
            error_id = secrets.token_hex(6)
            return Reply(
                500,
                [
                    {
                        "message": "An unexpected error occurred. Please include this ErrorId "
                        f"if you contact support: {error_id}",
                        "errorCode": "UNKNOWN_EXCEPTION",
                    }
                ],
            )

    def _route(
        self,
        method: str,
        version: str,
        segments: list[str],
        params: dict[str, str],
        body: Any,
        batch_size: int | None,
    ) -> Reply:
        if not segments:
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            base = f"/services/data/v{version}"
            return Reply(
                200,
                {
                    name: f"{base}/{name}"
                    for name in ("sobjects", "query", "queryAll", "limits", "composite")
                },
            )
        head, rest = segments[0], segments[1:]
        if head == "sobjects":
            return self._sobjects(method, version, rest, params, body)
        if head in ("query", "queryAll"):
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            if rest:
                return self._query_more(version, rest[0])
            return self._query(
                version,
                params.get("q", ""),
                head == "queryAll",
                batch_size or self.query_batch_size,
            )
        if head == "limits" and not rest:
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            return Reply(200, self._limits())
        if head == "composite":
            if not rest:
                if method != "POST":
                    raise _method_not_allowed(method, "POST")
                return self._composite(version, body)
            if rest[0] == "sobjects":
                return self._collections(method, version, rest[1:], params, body)
        if head == "jobs" and rest and rest[0] in ("ingest", "query"):
            return self.bulk2.handle(method, version, rest[0], rest[1:], params, body)
        raise _NOT_FOUND

    # -- sObject rows -----------------------------------------------------------------------
    def _object(self, name: str) -> ObjectDef:
        obj = self.schema.object(name)
        if obj is None:
            raise _NOT_FOUND
        return obj

    def _sobjects(
        self, method: str, version: str, rest: list[str], params: dict[str, str], body: Any
    ) -> Reply:
        if not rest:
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            return Reply(
                200,
                {
                    "encoding": "UTF-8",
                    "maxBatchSize": _MAX_COLLECTION,
                    "sobjects": [o.summary(version) for o in self.schema.objects.values()],
                },
            )
        obj = self._object(rest[0])
        if len(rest) == 1:
            if method == "GET":
                return Reply(200, {"objectDescribe": obj.summary(version), "recentItems": []})
            if method == "POST":
                return self._create(version, obj, body)
            raise _method_not_allowed(method, "GET,HEAD,POST")
        if len(rest) == 2 and rest[1] == "describe":
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            return Reply(200, obj.describe(version))
        if obj.is_platform_event:
            raise _NOT_FOUND
        if len(rest) == 2:
            return self._row(method, version, obj, rest[1], params, body)
        if len(rest) == 3:
            return self._by_external_id(method, version, obj, rest[1], rest[2], params, body)
        raise _NOT_FOUND

    def _create(self, version: str, obj: ObjectDef, body: Any) -> Reply:
        if obj.is_platform_event:
            event_id, event_uuid = self.store.publish(obj, body)
            return Reply(
                201,
                {
                    "id": event_id,
                    "success": True,
                    "errors": [
                        {"statusCode": "OPERATION_ENQUEUED", "message": event_uuid, "fields": []}
                    ],
                },
            )
        new_id = self.store.create(obj, body)
        return Reply(
            201,
            {"id": new_id, "success": True, "errors": []},
            {"Location": f"{obj.url(version)}/{new_id}"},
        )

    def _row(
        self,
        method: str,
        version: str,
        obj: ObjectDef,
        raw_id: str,
        params: dict[str, str],
        body: Any,
    ) -> Reply:
        if method == "GET":
            id_ = self.store.resolve_id(obj, raw_id, for_write=False)
            record = self.store.get(obj, id_)
            return Reply(200, self.render(version, obj, record, _field_list(params)))
        if method == "PATCH":
            id_ = self.store.resolve_id(obj, raw_id, for_write=True)
            self.store.update(obj, id_, body if body is not None else {})
            return Reply(204)
        if method == "DELETE":
            id_ = self.store.resolve_id(obj, raw_id, for_write=True)
            self.store.delete(obj, id_)
            return Reply(204)
        raise _method_not_allowed(method, "GET,PATCH,HEAD,DELETE")

    def _external_field(self, obj: ObjectDef, name: str) -> str:
        found = obj.field(name)
        if found is None or not (found.external_id or found.type == "id"):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {name}",
            )
        return found.name

    def _by_external_id(
        self,
        method: str,
        version: str,
        obj: ObjectDef,
        field_name: str,
        value: str,
        params: dict[str, str],
        body: Any,
    ) -> Reply:
        name = self._external_field(obj, field_name)
        field_def = obj.fields[name]
        if name == "Id":
            canonical = normalize_id(value)
            matches = (
                [canonical]
                if canonical and canonical in {r["Id"] for r in self.store.live(obj)}
                else []
            )
        else:
            matches = self.store.find_by(obj, field_def, value)
        if len(matches) > 1:
            return Reply(300, [f"{obj.url(version)}/{m}" for m in matches])
        if method == "GET":
            if not matches:
                raise _NOT_FOUND
            record = self.store.get(obj, matches[0])
            return Reply(200, self.render(version, obj, record, _field_list(params)))
        if method == "DELETE":
            if not matches:
                raise _NOT_FOUND
            self.store.delete(obj, matches[0])
            return Reply(204)
        if method == "PATCH":
            result = self._upsert_one(obj, name, value, body if body is not None else {})
            status = 201 if result["created"] else 200
            return Reply(status, result)
        raise _method_not_allowed(method, "GET,PATCH,HEAD,DELETE")

    def _upsert_one(
        self, obj: ObjectDef, name: str, value: str, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        clean = {k: v for k, v in values.items() if k not in ("attributes", "id")}
        for key, given in list(clean.items()):
            if key.lower() == name.lower():
                if given is not None and str(given) != value:
                    raise ApiError(
                        400,
                        "INVALID_FIELD",
                        f"Field {name} specified in the URL does not match the "
                        f"value given in the request body",
                        [name],
                    )
                del clean[key]
        if name == "Id":
            id_ = self.store.resolve_id(obj, value, for_write=True)
            self.store.update(obj, id_, clean)
            return {"id": id_, "success": True, "errors": [], "created": False}
        matches = self.store.find_by(obj, obj.fields[name], value)
        if len(matches) > 1:
            raise ApiError(300, "MULTIPLE_CHOICES", f"Multiple records found for {name}: {value}")
        if matches:
            self.store.update(obj, matches[0], clean)
            return {"id": matches[0], "success": True, "errors": [], "created": False}
        new_id = self.store.create(obj, {**clean, name: value})
        return {"id": new_id, "success": True, "errors": [], "created": True}

    def render(
        self,
        version: str,
        obj: ObjectDef,
        record: Mapping[str, Any],
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        """A record as the REST API shows it: ``attributes`` then field values."""
        out: dict[str, Any] = {
            "attributes": {"type": obj.name, "url": f"{obj.url(version)}/{record['Id']}"}
        }
        if fields is None:
            for name in obj.fields:
                out[name] = record.get(name)
            return out
        for raw in fields:
            found = obj.field(raw)
            if found is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{raw}' on entity '{obj.name}'. If you are "
                    "attempting to use a custom field, be sure to append the '__c' "
                    "after the custom field name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )
            out[found.name] = record.get(found.name)
        out.setdefault("Id", record["Id"])
        return out

    # -- query ------------------------------------------------------------------------------
    def _query(self, version: str, text: str, include_deleted: bool, batch: int) -> Reply:
        query = parse_query(text, self.schema)
        records = list(self.store.live(query.obj))
        if include_deleted:
            records.extend(self.store.deleted(query.obj))
        rows = query.run(records)
        if query.count_only:
            return Reply(200, {"totalSize": len(rows), "done": True, "records": []})
        rendered = [self.render(version, query.obj, r, query.fields) for r in rows]
        if "Id" not in query.fields:  # a row read adds Id; a query shows only what it selects
            for row in rendered:
                row.pop("Id", None)
        return self._page(version, rendered, 0, batch)

    def _page(self, version: str, rows: list[dict[str, Any]], start: int, batch: int) -> Reply:
        chunk = rows[start : start + batch]
        body: dict[str, Any] = {"totalSize": len(rows), "done": True, "records": chunk}
        if start + batch < len(rows):
            locator = to18(f"01g5g{next(self._cursor_seq):010d}")
            self._cursors[locator] = (rows, batch)
            body["done"] = False
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{start + batch}"
        return Reply(200, body)

    def _query_more(self, version: str, locator: str) -> Reply:
        key, _, start = locator.partition("-")
        cursor = self._cursors.get(key)
        if cursor is None or not start.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, batch = cursor
        return self._page(version, rows, int(start), batch)

    def _limits(self) -> dict[str, Any]:
        def pair(limit: int, used: int = 0) -> dict[str, int]:
            return {"Max": limit, "Remaining": max(limit - used, 0)}

        return {
            "ConcurrentAsyncGetReportInstances": pair(200),
            "DailyApiRequests": pair(self.daily_limit, self.api_used),
            "DailyAsyncApexExecutions": pair(250000),
            "DailyBulkApiBatches": pair(15000),
            "DailyBulkV2QueryJobs": pair(10000),
            "DailyStandardVolumePlatformEvents": pair(10000, len(self.store.events)),
            "DataStorageMB": pair(1024),
            "FileStorageMB": pair(1024),
            "HourlyPublishedPlatformEvents": pair(250000, len(self.store.events)),
            "SingleEmailMessages": pair(5000),
        }

    # -- sObject Collections ----------------------------------------------------------------
    def _collections(
        self, method: str, version: str, rest: list[str], params: dict[str, str], body: Any
    ) -> Reply:
        if not rest:
            if method == "POST":
                return self._collection_write(version, body, creating=True)
            if method == "PATCH":
                return self._collection_write(version, body, creating=False)
            if method == "DELETE":
                return self._collection_delete(params)
            raise _method_not_allowed(method, "DELETE,PATCH,POST")
        obj = self._object(rest[0])
        if len(rest) == 1 and method in ("GET", "POST"):
            if method == "GET":
                ids = [i for i in params.get("ids", "").split(",") if i]
                fields = _field_list(params)
            else:
                if not isinstance(body, dict):
                    raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
                ids = [str(i) for i in body.get("ids", [])]
                fields = [str(f) for f in body.get("fields", [])] or None
            if len(ids) > 2000:
                raise ApiError(400, "EXCEEDED_ID_LIMIT", "Number of ids exceeds the limit")
            out: list[dict[str, Any] | None] = []
            for raw in ids:
                canonical = normalize_id(raw)
                record = self.store.find(obj, canonical) if canonical else None
                out.append(self.render(version, obj, record, fields) if record else None)
            return Reply(200, out)
        if len(rest) == 2 and method == "PATCH":
            name = self._external_field(obj, rest[1])
            return self._collection_upsert(obj, name, body)
        raise _NOT_FOUND

    def _records_of(self, body: Any) -> tuple[list[Any], bool]:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize the request: 'records' must be an array",
            )
        records: list[Any] = body["records"]
        if len(records) > _MAX_COLLECTION:
            raise ApiError(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        return records, bool(body.get("allOrNone", False))

    def _collection_write(self, version: str, body: Any, *, creating: bool) -> Reply:
        records, all_or_none = self._records_of(body)

        def one(item: Any) -> dict[str, Any]:
            if not isinstance(item, dict):
                raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
            attributes = item.get("attributes")
            type_name = attributes.get("type") if isinstance(attributes, dict) else None
            if not type_name:
                raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
            obj = self.schema.object(str(type_name))
            if obj is None:
                raise ApiError(400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
            values = {k: v for k, v in item.items() if k.lower() != "id"}
            if creating:
                if "id" in item or "Id" in item:
                    raise ApiError(
                        400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                    )
                reply = self._create(version, obj, values)
                assert isinstance(reply.body, dict)
                return reply.body
            raw_id = item.get("id") or item.get("Id")
            if not raw_id:
                raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
            id_ = self.store.resolve_id(obj, str(raw_id), for_write=True)
            self.store.update(obj, id_, values)
            return {"id": id_, "success": True, "errors": []}

        return self._run_collection(records, all_or_none, one, with_id=not creating)

    def _collection_upsert(self, obj: ObjectDef, name: str, body: Any) -> Reply:
        records, all_or_none = self._records_of(body)

        def one(item: Any) -> dict[str, Any]:
            if not isinstance(item, dict):
                raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
            key = next((k for k in item if k.lower() == name.lower()), None)
            if key is None or item[key] in (None, ""):
                raise ApiError(400, "MISSING_ARGUMENT", f"{name} not specified", [name])
            return self._upsert_one(obj, name, str(item[key]), item)

        return self._run_collection(records, all_or_none, one, with_id=False)

    def _collection_delete(self, params: dict[str, str]) -> Reply:
        ids = [i for i in params.get("ids", "").split(",") if i]
        if len(ids) > _MAX_COLLECTION:
            raise ApiError(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        all_or_none = params.get("allOrNone", "false").lower() == "true"

        def one(raw: Any) -> dict[str, Any]:
            canonical = normalize_id(str(raw))
            obj = self.schema.by_prefix(canonical[:3]) if canonical else None
            if canonical is None or obj is None or obj.is_platform_event:
                raise ApiError(400, "MALFORMED_ID", f"malformed id {raw}", [])
            self.store.delete(obj, canonical)
            return {"id": canonical, "success": True, "errors": []}

        return self._run_collection(ids, all_or_none, one, with_id=True)

    def _run_collection(
        self, items: list[Any], all_or_none: bool, one: Any, *, with_id: bool
    ) -> Reply:
        results: list[dict[str, Any]] = []
        failed = False
        with self.store.transaction() as savepoint:
            for item in items:
                try:
                    results.append(one(item))
                except ApiError as error:
                    failed = True
                    result: dict[str, Any] = {"success": False, "errors": [error.as_status()]}
                    if with_id:
                        raw = item.get("id") if isinstance(item, dict) else item
                        canonical = normalize_id(str(raw)) if raw else None
                        result = {"id": canonical or raw, **result}
                    results.append(result)
            if failed and all_or_none:
                savepoint.rollback()
                rolled_back = {
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the "
                    "request was using AllOrNone header",
                    "fields": [],
                }
                for index, result in enumerate(results):
                    if result["success"]:
                        kept = {"id": result["id"]} if with_id else {}
                        results[index] = {**kept, "success": False, "errors": [rolled_back]}
        return Reply(200, results)

    # -- Composite --------------------------------------------------------------------------
    def _composite(self, version: str, body: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize the request: 'compositeRequest' is required",
            )
        subrequests: list[Any] = body["compositeRequest"]
        if len(subrequests) > _MAX_COMPOSITE:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite API only supports up to {_MAX_COMPOSITE} subrequests; "
                f"found {len(subrequests)}",
            )
        heavy = 0
        seen: set[str] = set()
        for sub in subrequests:
            if not isinstance(sub, dict) or not sub.get("method") or not sub.get("url"):
                raise ApiError(
                    400, "JSON_PARSER_ERROR", "Each subrequest needs method, url and referenceId"
                )
            ref = sub.get("referenceId")
            if not isinstance(ref, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ref):
                raise ApiError(
                    400,
                    "INVALID_INPUT",
                    f"Invalid referenceId ('{ref}'): it must start with a letter "
                    "and contain only alphanumerics and underscores",
                )
            if ref in seen:
                raise ApiError(400, "INVALID_INPUT", f"Duplicate referenceId provided ({ref})")
            seen.add(ref)
            path = urlsplit(str(sub["url"])).path
            if "/query" in path or "/composite/sobjects" in path:
                heavy += 1
        if heavy > _MAX_COMPOSITE_HEAVY:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                "Composite API only supports up to 5 query or sObject Collections subrequests",
            )
        all_or_none = bool(body.get("allOrNone", False))
        results: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        halted = False
        with self.store.transaction() as savepoint:
            for sub in subrequests:
                ref = sub["referenceId"]
                if halted:
                    responses.append(_halted(ref))
                    continue
                reply = self._subrequest(version, sub, results)
                if reply.status < 400 and isinstance(reply.body, dict | list):
                    results[ref] = reply.body
                entry: dict[str, Any] = {
                    "body": reply.body,
                    "httpHeaders": reply.headers,
                    "httpStatusCode": reply.status,
                    "referenceId": ref,
                }
                responses.append(entry)
                if reply.status >= 400 and all_or_none:
                    halted = True
            if halted:
                savepoint.rollback()
                responses = [
                    r if r["httpStatusCode"] >= 400 else _halted(r["referenceId"])
                    for r in responses
                ]
        return Reply(200, {"compositeResponse": responses})

    def _subrequest(self, version: str, sub: dict[str, Any], results: dict[str, Any]) -> Reply:
        try:
            url = _substitute(str(sub["url"]), results)
            body = _substitute(sub.get("body"), results)
        except ApiError as error:
            return _error_reply(error)
        parts = urlsplit(url)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        if len(segments) < 3 or segments[:2] != ["services", "data"]:
            return _error_reply(_NOT_FOUND)
        match = _VERSION.match(segments[2])
        if match is None:
            return _error_reply(_NOT_FOUND)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        return self.dispatch(
            str(sub["method"]).upper(),
            match[1],
            segments[3:],
            params,
            body,
            batch_size=self.query_batch_size,
        )

    # -- OAuth ------------------------------------------------------------------------------
    def _token(self, method: str, body: bytes, base_url: str) -> Reply:
        if method != "POST":
            return Reply(405, {"error": "invalid_request", "error_description": "must use POST"})
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        grant = form.get("grant_type")
        if grant not in ("password", "refresh_token"):
            return Reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
            )
        if form.get("client_id") != self.oauth.client_id:
            return Reply(
                400,
                {"error": "invalid_client_id", "error_description": "client identifier invalid"},
            )
        secret = form.get("client_secret")
        if (grant == "password" or secret is not None) and secret != self.oauth.client_secret:
            return Reply(
                400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            )
        if grant == "password":
            if (form.get("username"), form.get("password")) != (
                self.oauth.username,
                self.oauth.password,
            ):
                return Reply(
                    400, {"error": "invalid_grant", "error_description": "authentication failure"}
                )
        elif form.get("refresh_token") not in self._refresh_tokens:
            return Reply(
                400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
            )
        token = self.issue_token()
        return Reply(
            200,
            {
                "access_token": token,
                "instance_url": base_url,
                "id": f"{base_url}/id/{ORG_ID}/{DEFAULT_USER_ID}",
                "token_type": "Bearer",
                "issued_at": "1700000000000",
                "signature": secrets.token_urlsafe(32),
                "scope": "api refresh_token",
            },
        )


def _halted(ref: str) -> dict[str, Any]:
    return {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "The transaction was rolled back since another operation in the "
                "same transaction failed.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref,
    }


def _lookup(results: dict[str, Any], ref: str, path: str) -> Any:
    if ref not in results:
        raise ApiError(
            400,
            "PROCESSING_HALTED",
            f"Invalid reference specified. No value for {ref}{path} found in {ref}. "
            f"Provided referenceId ('{ref}') must start with a letter or a number, "
            "and it can contain only letters, numbers and underscores ('_').",
        )
    value = results[ref]
    for key, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            value = None
        if value is None:
            raise ApiError(
                400,
                "PROCESSING_HALTED",
                f"Invalid reference specified. No value for {ref}{path} found in {ref}.",
            )
    return value


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(results, whole[1], whole[2])
        return _REF.sub(lambda m: str(_lookup(results, m[1], m[2])), value)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value


def _field_list(params: Mapping[str, str]) -> list[str] | None:
    raw = params.get("fields")
    if not raw:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


def _batch_size(header: str) -> int | None:
    match = re.search(r"batchSize=(\d+)", header)
    if match is None:
        return None
    return min(max(int(match[1]), 200), 2000)
