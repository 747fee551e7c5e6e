"""``HubSpotConnector``: crmlink's connector for HubSpot, on the real hubspot-api-client.

Every call goes through :meth:`HubSpotConnector._call`, which owns the retry policy: a 429
``TEN_SECONDLY_ROLLING`` is retried after the wait the answer announces (bounded by
``max_wait``, at most ``max_retries`` times); a 429 ``DAILY`` is final; 5xx answers and refused
connections get bounded exponential backoff; a 401 on an OAuth connection renews the access token
once. What is left is normalized by :mod:`crmlink_hubspot.errors`. Before every request the
portal's :class:`~crmlink_hubspot.pacing.Pacer` keeps the process under the announced burst
limit, so batch work does not trip it at all.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import hubspot
import urllib3
from crmlink.catalog import CatalogObject, ObjectSummary
from crmlink.connector import Capability, Connector, Health
from crmlink.errors import ConnectionUnhealthy, CrmError, CrmlinkError, NotFound
from crmlink.records import BatchResult, CrmRecord
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.events.send import BehavioralEventHttpCompletionRequest

from crmlink_hubspot.catalog import (
    REQUIRED_ON_CREATE,
    STANDARD_OBJECTS,
    catalog_object,
)
from crmlink_hubspot.errors import (
    HubSpotFailure,
    is_api_exception,
    is_transport_error,
    normalize,
    parse_failure,
)
from crmlink_hubspot.pacing import Pacer, pacer_for
from crmlink_hubspot.settings import HubSpotSettings
from crmlink_hubspot.transport import ApiFactory, CountingPoolManager
from crmlink_hubspot.values import to_hubspot_properties

__all__ = ["BATCH_SIZE", "HubSpotConnector"]

BATCH_SIZE = 100
"""HubSpot's most inputs per batch request."""

T = TypeVar("T")


class HubSpotConnector(Connector[HubSpotSettings]):
    """A HubSpot portal: contacts, companies, deals and custom objects; custom events."""

    name = "hubspot"
    settings_model = HubSpotSettings
    capabilities = frozenset({Capability.WORKFLOW, Capability.BATCH, Capability.UPSERT})

    def __init__(self, settings: HubSpotSettings) -> None:
        super().__init__(settings)
        if settings.access_token is not None:
            credential = settings.access_token.get_secret_value()
        else:
            credential = f"oauth:{settings.client_id}"
        digest = hashlib.sha256(credential.encode()).hexdigest()
        self.pacer: Pacer = pacer_for(
            settings.base_url, digest, settings.burst_limit, settings.burst_window
        )
        self._pool = CountingPoolManager(
            self.pacer,
            num_pools=4,
            maxsize=8,
            retries=urllib3.Retry(total=2, connect=2, read=0, redirect=0, status=0, other=0),
        )
        self._token_lock = threading.Lock()
        self._access_token = (
            settings.access_token.get_secret_value() if settings.access_token else ""
        )
        self._client = hubspot.Client.create(
            host=settings.base_url,
            api_factory=ApiFactory(self._pool, lambda: self._access_token),
        )
        self._catalog: dict[str, CatalogObject] = {}
        self._custom: dict[str, dict[str, Any]] | None = None

    # -- the call policy -----------------------------------------------------------------------
    def _call(
        self, call: Callable[[], T], *, object: str | None = None, idempotent: bool = False
    ) -> T:
        """Run one API call with token renewal, bounded retries and error normalization.

        A request that may have reached HubSpot before the connection broke (a read timeout, a
        reset) is retried only when ``idempotent``: a create retried blindly could be stored
        twice. Refused connections and HTTP 5xx answers are retried either way.
        """
        attempt = 0
        renewed = False
        while True:
            if self.settings.uses_oauth and not self._access_token:
                self._renew_token()
            try:
                return call()
            except Exception as exc:
                failure = self._failure(exc)
            if failure.status == 401 and self.settings.uses_oauth and not renewed:
                renewed = True
                self._renew_token()
                continue
            wait = self._retry_wait(failure, attempt)
            if failure.category in ("TRANSPORT", "BAD_ANSWER") and not idempotent:
                wait = None
            if wait is None:
                raise normalize(
                    failure, object=object, retry_after=self._retry_after(failure)
                ) from None
            attempt += 1
            time.sleep(wait)

    @staticmethod
    def _failure(exc: Exception) -> HubSpotFailure:
        if is_api_exception(exc):
            return parse_failure(exc)
        if is_transport_error(exc):
            category = "CONNECT" if _never_sent(exc) else "TRANSPORT"
            return HubSpotFailure(0, category, str(exc), [], [], None, {}, {})
        if isinstance(exc, ValueError) and type(exc).__module__ == "builtins":
            # hubspot-api-client's models raise ValueError on an answer they cannot read
            return HubSpotFailure(0, "BAD_ANSWER", str(exc), [], [], None, {}, {})
        raise exc

    def _retry_wait(self, failure: HubSpotFailure, attempt: int) -> float | None:
        if attempt >= self.settings.max_retries:
            return None
        if failure.status == 429:
            if failure.policy == "DAILY":
                return None
            return min(self.settings.max_wait, self._retry_after(failure) or 1.0)
        if failure.status >= 500 or failure.status == 0:
            return min(self.settings.max_wait, self.settings.backoff * float(2**attempt))
        return None

    def _retry_after(self, failure: HubSpotFailure) -> float | None:
        """Seconds the answer says to wait: ``Retry-After``, else a share of the window."""
        if failure.status != 429:
            return None
        header = failure.headers.get("Retry-After") if failure.headers else None
        if header:
            try:
                return float(str(header))
            except ValueError:
                pass
        if failure.policy == "DAILY":
            return 3600.0
        interval = str(failure.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds") or "")
        window = int(interval) / 1000 if interval.isdigit() else self.pacer.window
        return max(0.01, window / 10)

    def _renew_token(self) -> None:
        """The refresh_token grant: a new access token for an OAuth connection."""
        s = self.settings
        assert s.client_secret is not None
        assert s.refresh_token is not None
        with self._token_lock:
            try:
                answer = self._client.oauth.tokens_api.create(
                    grant_type="refresh_token",
                    client_id=s.client_id,
                    client_secret=s.client_secret.get_secret_value(),
                    refresh_token=s.refresh_token.get_secret_value(),
                    _request_timeout=s.timeout,
                )
            except Exception as exc:
                failure = self._failure(exc)
                if failure.status == 0 or failure.status >= 500:
                    raise normalize(failure) from None
                raise ConnectionUnhealthy(
                    f"HubSpot refused the OAuth refresh token: {failure.message}",
                    crm=CrmError(
                        code=str(failure.body.get("status") or failure.status),
                        message=failure.message,
                    ),
                ) from None
            self._access_token = str(answer.access_token)

    @property
    def _objects(self) -> Any:
        return self._client.crm.objects

    # -- catalog -------------------------------------------------------------------------------
    def _custom_schemas(self) -> dict[str, dict[str, Any]]:
        if self._custom is None:
            try:
                answer = self._call(
                    lambda: self._client.crm.schemas.core_api.get_all(
                        _request_timeout=self.settings.timeout
                    ),
                    idempotent=True,
                )
            except ConnectionUnhealthy as exc:
                if exc.crm is None or exc.crm.code != "MISSING_SCOPES":
                    raise
                answer = None
            schemas = [r.to_dict() for r in answer.results] if answer is not None else []
            self._custom = {str(s["object_type_id"]): s for s in schemas}
        return self._custom

    def list_objects(self) -> list[ObjectSummary]:
        """Contacts, companies, deals, and the portal's custom objects (``2-...``)."""
        found = [
            ObjectSummary(name=name, label=labels[0], label_plural=labels[1])
            for name, labels in STANDARD_OBJECTS.items()
        ]
        for type_id, schema in self._custom_schemas().items():
            labels = schema.get("labels") or {}
            found.append(
                ObjectSummary(
                    name=type_id,
                    label=str(labels.get("singular") or schema.get("name")),
                    label_plural=labels.get("plural"),
                    custom=True,
                )
            )
        return found

    def describe_object(self, name: str) -> CatalogObject:
        """An object's properties (one properties-API call, cached until refresh_catalog)."""
        cached = self._catalog.get(name)
        if cached is not None:
            return cached.model_copy(deep=True)
        if name in STANDARD_OBJECTS:
            label, plural = STANDARD_OBJECTS[name]
            required = REQUIRED_ON_CREATE[name]
            custom = False
        elif name.startswith("2-"):
            schema = self._custom_schemas().get(name)
            if schema is None:
                raise NotFound(f"HubSpot has no custom object {name!r}")
            labels = schema.get("labels") or {}
            label = str(labels.get("singular") or name)
            plural = str(labels.get("plural") or label)
            required = tuple(schema.get("required_properties") or ())
            custom = True
        else:
            raise NotFound(
                f"HubSpot object {name!r} is not offered (contacts, companies, deals or 2-...)"
            )
        answer = self._call(
            lambda: self._client.crm.properties.core_api.get_all(
                name, archived=False, _request_timeout=self.settings.timeout
            ),
            object=name,
            idempotent=True,
        )
        props = [_property_json(p) for p in answer.results]
        described = catalog_object(name, label, plural, props, required, custom)
        self._catalog[name] = described
        return described.model_copy(deep=True)

    def refresh_catalog(self) -> None:
        """Forget cached property lists and custom object schemas."""
        self._catalog.clear()
        self._custom = None

    def _native_types(self, object: str) -> dict[str, str]:
        cached = self._catalog.get(object)
        if cached is None:
            return {}
        return {n: (f.native_type or "").split("/", 1)[0] for n, f in cached.fields.items()}

    def _properties(self, object: str, values: Mapping[str, Any]) -> dict[str, str]:
        return to_hubspot_properties(values, self._native_types(object))

    # -- records -------------------------------------------------------------------------------
    def create(
        self, object: str, values: Mapping[str, Any], *, returning: Sequence[str] | None = None
    ) -> CrmRecord:
        """``POST /crm/v3/objects/{object}``: one call, answered with id and properties."""
        body = SimplePublicObjectInputForCreate(properties=self._properties(object, values))
        answer = self._call(
            lambda: self._objects.basic_api.create(
                object, body, _request_timeout=self.settings.timeout
            ),
            object=object,
        )
        return _record(object, answer, returning)

    def update(
        self,
        object: str,
        id: str,
        values: Mapping[str, Any],
        *,
        returning: Sequence[str] | None = None,
    ) -> CrmRecord:
        """``PATCH /crm/v3/objects/{object}/{id}``; ``NotFound`` if the record is gone."""
        if not values:
            return self.get(object, id, returning=returning)
        body = SimplePublicObjectInput(properties=self._properties(object, values))
        answer = self._call(
            lambda: self._objects.basic_api.update(
                object, id, body, _request_timeout=self.settings.timeout
            ),
            object=object,
            idempotent=True,
        )
        return _record(object, answer, returning)

    def get(self, object: str, id: str, *, returning: Sequence[str] | None = None) -> CrmRecord:
        """``GET /crm/v3/objects/{object}/{id}`` with the ``returning`` properties.

        Without ``returning`` every property of the object is read (HubSpot would otherwise
        answer only its few default properties); the property list comes from the cached catalog.
        """
        if returning:
            names = list(returning)
        else:
            if object not in self._catalog:
                self.describe_object(object)
            names = list(self._catalog[object].fields)
        answer = self._call(
            lambda: self._objects.basic_api.get_by_id(
                object,
                id,
                properties=names,
                _request_timeout=self.settings.timeout,
            ),
            object=object,
            idempotent=True,
        )
        return _record(object, answer, returning)

    def delete(self, object: str, id: str) -> None:
        """Archive a record. HubSpot answers 204 for unknown ids too, so it is read first."""
        self.get(object, id, returning=("hs_object_id",))
        self._call(
            lambda: self._objects.basic_api.archive(
                object, id, _request_timeout=self.settings.timeout
            ),
            object=object,
            idempotent=True,
        )

    def upsert(
        self,
        object: str,
        key: str,
        values: Mapping[str, Any],
        *,
        returning: Sequence[str] | None = None,
    ) -> tuple[CrmRecord, bool]:
        """Create or update the record whose unique property ``key`` has ``values[key]``.

        One ``batch/upsert`` call; returns the record and whether it was created.
        """
        if key not in values:
            raise CrmlinkError(f"upsert on {object} needs a value for its key {key!r}")
        props = self._properties(object, values)
        item = SimplePublicObjectBatchInputUpsert(
            id=props.pop(key), id_property=key, properties=props
        )
        answer = self._call(
            lambda: self._objects.batch_api.upsert(
                object,
                BatchInputSimplePublicObjectBatchInputUpsert(inputs=[item]),
                _request_timeout=self.settings.timeout,
            ),
            object=object,
        )
        errors = getattr(answer, "errors", None) or []
        if errors:
            raise normalize(_failure_of(errors[0]), object=object)
        result = answer.results[0]
        return _record(object, result, returning), bool(result.new)

    # -- workflow ------------------------------------------------------------------------------
    def publish_workflow_event(
        self,
        event: str,
        values: Mapping[str, Any],
        *,
        object: str | None = None,
        id: str | None = None,
    ) -> str | None:
        """Send a custom event occurrence (``POST /events/v3/send``); returns its uuid.

        ``event`` is the event's internal name (``pe<portalId>_...``) the end user chose;
        ``values`` become the occurrence's properties; ``id`` (the record the event is about)
        is sent as ``objectId``, and a ``email`` value also identifies the contact.
        """
        receipt = str(uuid.uuid4())
        props = to_hubspot_properties(values)
        request = BehavioralEventHttpCompletionRequest(
            event_name=event,
            properties=props,
            object_id=id,
            email=props.get("email") if object in (None, "contacts") else None,
            uuid=receipt,
        )
        self._call(
            lambda: self._client.events.send.basic_api.send(
                behavioral_event_http_completion_request=request,
                _request_timeout=self.settings.timeout,
            )
        )
        return receipt

    # -- health --------------------------------------------------------------------------------
    def health(self) -> Health:
        """One cheap read (a page of one contact id); usage from the rate-limit headers."""
        try:
            self._call(
                lambda: self._objects.basic_api.get_page(
                    "contacts",
                    limit=1,
                    properties=["hs_object_id"],
                    _request_timeout=self.settings.timeout,
                ),
                idempotent=True,
            )
        except CrmlinkError as exc:
            return Health(ok=False, message=exc.message, api_usage=self.api_usage())
        return Health(ok=True, api_usage=self.api_usage())

    def api_usage(self) -> dict[str, int] | None:
        """Daily and burst usage as the last answer's ``X-HubSpot-RateLimit-*`` headers said."""
        usage: dict[str, int] = {}
        p = self.pacer
        if p.daily is not None and p.daily_remaining is not None:
            usage["used"] = p.daily - p.daily_remaining
            usage["limit"] = p.daily
        if p.remaining is not None:
            usage["burst_limit"] = p.limit
            usage["burst_remaining"] = p.remaining
        return usage or None

    # -- batches -------------------------------------------------------------------------------
    def create_many(
        self,
        object: str,
        records: Sequence[Mapping[str, Any]],
        *,
        returning: Sequence[str] | None = None,
    ) -> list[BatchResult]:
        """``batch/create`` in chunks of 100, one result per input (multi-status answers)."""
        results: list[BatchResult] = []
        for start in range(0, len(records), BATCH_SIZE):
            chunk = records[start : start + BATCH_SIZE]
            inputs = [
                SimplePublicObjectBatchInputForCreate(
                    properties=self._properties(object, values),
                    object_write_trace_id=str(i),
                    associations=[],
                )
                for i, values in enumerate(chunk)
            ]
            body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
            results.extend(
                self._batch(
                    object,
                    len(chunk),
                    partial(self._send_batch, "create", object, body),
                    returning,
                )
            )
        return results

    def update_many(
        self,
        object: str,
        updates: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        returning: Sequence[str] | None = None,
    ) -> list[BatchResult]:
        """``batch/update`` in chunks of 100, one result per input."""
        results: list[BatchResult] = []
        for start in range(0, len(updates), BATCH_SIZE):
            chunk = updates[start : start + BATCH_SIZE]
            inputs = [
                SimplePublicObjectBatchInput(
                    id=id_,
                    properties=self._properties(object, values),
                    object_write_trace_id=str(i),
                )
                for i, (id_, values) in enumerate(chunk)
            ]
            body = BatchInputSimplePublicObjectBatchInput(inputs=inputs)
            results.extend(
                self._batch(
                    object,
                    len(chunk),
                    partial(self._send_batch, "update", object, body),
                    returning,
                )
            )
        return results

    def delete_many(self, object: str, ids: Sequence[str]) -> list[BatchResult]:
        """``batch/read`` then ``batch/archive`` per 100 ids: unknown ids are ``not found``."""
        results: list[BatchResult] = []
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = list(ids[start : start + BATCH_SIZE])
            try:
                existing = self._existing(object, chunk)
                live = sorted(existing)
                if live:
                    body = BatchInputSimplePublicObjectId(
                        inputs=[SimplePublicObjectId(id=i) for i in live]
                    )
                    self._call(
                        partial(self._send_batch, "archive", object, body),
                        object=object,
                        idempotent=True,
                    )
            except CrmlinkError as exc:
                results.extend(_failed(exc) for _ in chunk)
                continue
            for id_ in chunk:
                if id_ in existing:
                    existing.discard(id_)  # a repeated id is gone by its second turn
                    results.append(BatchResult(record=CrmRecord(object, id_)))
                else:
                    results.append(
                        BatchResult(
                            error=CrmError(
                                code="OBJECT_NOT_FOUND",
                                message=f"{object} record {id_} does not exist",
                            )
                        )
                    )
        return results

    def _send_batch(self, action: str, object: str, body: Any) -> Any:
        """One ``POST /crm/v3/objects/{object}/batch/{action}``."""
        method = getattr(self._objects.batch_api, action)
        return method(object, body, _request_timeout=self.settings.timeout)

    def _existing(self, object: str, ids: list[str]) -> set[str]:
        body = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in ids],
            properties=["hs_object_id"],
            properties_with_history=[],
        )
        answer = self._call(
            lambda: self._objects.batch_api.read(
                object, body, _request_timeout=self.settings.timeout
            ),
            object=object,
            idempotent=True,
        )
        return {str(r.id) for r in answer.results}

    def _batch(
        self,
        object: str,
        size: int,
        call: Callable[[], Any],
        returning: Sequence[str] | None,
    ) -> list[BatchResult]:
        """One batch call answered per input: results and errors matched by trace id."""
        try:
            answer = self._call(call, object=object)
        except CrmlinkError as exc:
            return [_failed(exc) for _ in range(size)]
        by_trace: dict[int, BatchResult] = {}
        for position, result in enumerate(answer.results):
            trace = result.object_write_trace_id
            index = int(trace) if trace is not None and str(trace).isdigit() else position
            by_trace[index] = BatchResult(record=_record(object, result, returning))
        for error in getattr(answer, "errors", None) or []:
            context = error.context or {}
            crm_error = normalize(_failure_of(error), object=object)
            for trace in context.get("objectWriteTraceId") or []:
                if str(trace).isdigit():
                    by_trace[int(trace)] = _failed(crm_error)
        missing = CrmError(code="UNKNOWN", message="HubSpot answered nothing for this input")
        return [by_trace.get(i, BatchResult(error=missing)) for i in range(size)]

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.clear()


def _never_sent(exc: BaseException) -> bool:
    """Whether a transport error happened before the request could reach HubSpot."""
    reason = (
        getattr(exc, "reason", None) if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
    )
    never_sent = (
        urllib3.exceptions.NewConnectionError,
        urllib3.exceptions.ConnectTimeoutError,
        ConnectionRefusedError,
    )
    return isinstance(reason, never_sent)


def _failed(exc: CrmlinkError) -> BatchResult:
    """A batch entry for an error, keeping the CRM's code, fields and existing id."""
    crm = exc.crm
    return BatchResult(
        error=CrmError(
            code=crm.code if crm else exc.type,
            message=exc.message,
            fields=tuple(crm.fields) if crm else (),
            existing_id=crm.existing_id if crm else None,
        )
    )


def _failure_of(error: Any) -> HubSpotFailure:
    """A 207 ``errors`` entry (a ``StandardError`` model) as a failure."""
    status = {
        "VALIDATION_ERROR": 400,
        "CONFLICT": 409,
        "OBJECT_NOT_FOUND": 404,
    }.get(str(error.category), 400)
    codes = [str(e.code) for e in error.errors or [] if getattr(e, "code", None)]
    fields: list[str] = []
    for item in error.errors or []:
        for name in (getattr(item, "context", None) or {}).get("propertyName") or []:
            fields.append(str(name))
    return HubSpotFailure(
        status=status,
        category=str(error.category),
        message=str(error.message),
        codes=codes,
        fields=fields,
        policy=None,
        headers={},
        body={},
    )


def _property_json(prop: Any) -> dict[str, Any]:
    """A properties-API model back in its JSON field names (what the catalog reads)."""
    meta = prop.modification_metadata
    return {
        "name": prop.name,
        "label": prop.label,
        "type": prop.type,
        "fieldType": prop.field_type,
        "hidden": bool(prop.hidden),
        "archived": bool(prop.archived),
        "calculated": bool(prop.calculated),
        "hasUniqueValue": bool(prop.has_unique_value),
        "options": [
            {"value": o.value, "label": o.label, "hidden": bool(o.hidden)}
            for o in prop.options or []
        ],
        "modificationMetadata": {"readOnlyValue": bool(meta.read_only_value) if meta else False},
    }


def _record(object: str, answer: Any, returning: Sequence[str] | None) -> CrmRecord:
    if answer is None:
        raise CrmlinkError(f"HubSpot answered {object} with an unexpected success status")
    fields: dict[str, Any] = dict(answer.properties or {})
    for name in returning or ():
        fields.setdefault(name, None)
    fields.setdefault("hs_object_id", str(answer.id))
    return CrmRecord(object=object, id=str(answer.id), fields=fields)
