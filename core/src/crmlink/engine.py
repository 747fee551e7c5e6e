"""The Engine: link connections, save mappings, invoke events. The in-process API.

Pipeline of :meth:`Engine.invoke`: load the connection (definition, compiled mapping, live
connector) → validate the payload against the event's schema → render the mapping into CRM
values → call the connector → map the record back → record the invocation → answer.
The HTTP server is a thin layer over this class; so are the CLI's demo and the tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from crmlink.catalog import CatalogObject, ObjectSummary
from crmlink.connector import Connector, Health, counting_crm_calls
from crmlink.definitions import Definition, EventType, parse_definition
from crmlink.errors import (
    BadRequest,
    Conflict,
    ConnectionUnhealthy,
    CrmlinkError,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    ErrorItem,
    NotFound,
    NotMapped,
    SettingsInvalid,
)
from crmlink.invocations import InvocationLog
from crmlink.mapping import CompiledMapping, EventPlan, ReadPlan, compile_mapping, parse_mapping
from crmlink.payloads import validate_payload
from crmlink.plugins import PluginHost, default_host
from crmlink.records import (
    Action,
    CrmRecord,
    InvocationResult,
    Record,
    format_record_id,
    parse_record_id,
)
from crmlink.store.base import Store, StoredConnection
from crmlink.store.memory import MemoryStore

__all__ = ["DEFAULT_APP", "Engine"]

log = logging.getLogger("crmlink.engine")

DEFAULT_APP = "default"
_TRANSIENT = (CrmRateLimited, CrmUnavailable, ConnectionUnhealthy)


@dataclass(frozen=True)
class _Live:
    """A connection ready to run: parsed definition and lenient-compiled mapping."""

    version: int
    connector_name: str
    definition: Definition
    mapping: CompiledMapping | None


class _Shared:
    """State shared by an engine and its per-app views."""

    def __init__(self, store: Store, plugins: PluginHost) -> None:
        self.store = store
        self.plugins = plugins
        self.lock = threading.Lock()
        self.live: dict[tuple[str, str], _Live] = {}
        self.connectors: dict[tuple[str, str], tuple[str, Connector[Any]]] = {}


class Engine:
    """Links connections, validates mappings and invokes events, for one app.

    ``Engine()`` keeps everything in memory and loads installed connector plugins. Use
    :meth:`for_app` to get a view scoped to another app that shares the store and caches.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        plugins: PluginHost | None = None,
        app_id: str = DEFAULT_APP,
        idempotency_ttl: timedelta = timedelta(hours=24),
        idempotency_wait: float = 10.0,
        _shared: _Shared | None = None,
        _known_versions: Mapping[str, int] | None = None,
    ) -> None:
        self._shared = _shared or _Shared(store or MemoryStore(), plugins or default_host())
        self._known_versions: Mapping[str, int] = _known_versions or {}
        self.app_id = app_id
        self.idempotency_ttl = idempotency_ttl
        self.idempotency_wait = idempotency_wait

    @property
    def store(self) -> Store:
        return self._shared.store

    @property
    def plugins(self) -> PluginHost:
        return self._shared.plugins

    def for_app(self, app_id: str, *, known_versions: Mapping[str, int] | None = None) -> Engine:
        """A view of this engine for another app: same store, plugins and caches.

        ``known_versions`` maps connection ids to the versions the caller has just read from
        the store, for a view that lives one request: invoking on such a connection then skips
        the engine's own version lookup. The HTTP server reads the version with the API key, in
        one query.
        """
        return Engine(
            app_id=app_id,
            idempotency_ttl=self.idempotency_ttl,
            idempotency_wait=self.idempotency_wait,
            _shared=self._shared,
            _known_versions=known_versions,
        )

    # -- connections -----------------------------------------------------------------------------
    def link(
        self,
        connection_id: str,
        connector: str = "memory",
        settings: Mapping[str, Any] | None = None,
        objects: Mapping[str, Any] | None = None,
    ) -> StoredConnection:
        """Create or update a connection and its definition (the server side of ``linkCRM``).

        A saved mapping is kept: what no longer fits the new definition answers ``not_mapped``
        until the end user maps it again.
        """
        _check_connection_id(connection_id)
        cls = self.plugins.connector(connector)
        clean_settings = _validate_settings(cls, settings or {})
        definition = parse_definition(objects if objects is not None else {})
        old = self.store.get_connection(self.app_id, connection_id)
        stored = StoredConnection(
            app_id=self.app_id,
            connection_id=connection_id,
            connector=connector,
            settings=clean_settings,
            definition=definition.to_json(),
            mapping=old.mapping if old and old.connector == connector else None,
            catalog=old.catalog if old and old.connector == connector else None,
        )
        return self.store.put_connection(stored)

    def unlink(self, connection_id: str) -> None:
        """Delete a connection, its mapping and its log."""
        if not self.store.delete_connection(self.app_id, connection_id):
            raise _no_connection(connection_id)
        with self._shared.lock:
            self._shared.live.pop((self.app_id, connection_id), None)
            cached = self._shared.connectors.pop((self.app_id, connection_id), None)
        if cached is not None:
            cached[1].close()

    def connection(self, connection_id: str) -> StoredConnection:
        """The stored connection; ``NotFound`` if it does not exist for this app."""
        stored = self.store.get_connection(self.app_id, connection_id)
        if stored is None:
            raise _no_connection(connection_id)
        return stored

    def connections(self, *, limit: int = 50, after: str | None = None) -> list[StoredConnection]:
        """This app's connections, ordered by id."""
        return self.store.list_connections(self.app_id, limit=limit, after=after)

    def masked_settings(self, connection: StoredConnection) -> dict[str, Any]:
        """Settings as safe to show: every secret replaced by asterisks."""
        cls = self.plugins.connector(connection.connector)
        model = cls.settings_model.model_validate(connection.settings)
        masked: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
        return masked

    def connector(self, connection_id: str) -> Connector[Any]:
        """The live connector instance serving a connection."""
        return self._connector(self.connection(connection_id))

    def health(self, connection_id: str) -> Health:
        """Whether the connection's CRM credentials work, with API usage if known."""
        connector = self.connector(connection_id)
        try:
            return connector.health()
        except CrmlinkError as exc:
            return Health(ok=False, message=exc.message)

    # -- catalog and mapping ---------------------------------------------------------------------
    def catalog(self, connection_id: str) -> list[ObjectSummary]:
        """The CRM objects a mapping may target."""
        return self.connector(connection_id).list_objects()

    def catalog_object(self, connection_id: str, crm_object: str) -> CatalogObject:
        """One CRM object with its fields and flags."""
        return self.connector(connection_id).describe_object(crm_object)

    def set_mapping(self, connection_id: str, mapping: Any) -> StoredConnection:
        """Validate a mapping against the definition and the live catalog, then save it."""
        stored = self.connection(connection_id)
        connector = self._connector(stored)
        definition = parse_definition(stored.definition)
        document = parse_mapping(mapping)
        connector.refresh_catalog()
        seen: dict[str, CatalogObject | None] = {}

        def lookup(name: str) -> CatalogObject | None:
            if name not in seen:
                try:
                    seen[name] = connector.describe_object(name)
                except NotFound:
                    seen[name] = None
            return seen[name]

        compile_mapping(definition, document, lookup, self.plugins.transforms())
        stored.mapping = document.model_dump(mode="json", by_alias=True, exclude_unset=True)
        stored.catalog = {
            name: obj.model_dump(mode="json") for name, obj in seen.items() if obj is not None
        }
        return self.store.put_connection(stored)

    def mapping_status(self, connection_id: str) -> dict[str, dict[str, str]]:
        """Per object and event: ``mapped``, ``not_mapped``, ``opted_out`` or ``broken``."""
        live = self._live(connection_id)
        status: dict[str, dict[str, str]] = {}
        for slug, obj in live.definition.objects.items():
            per_event: dict[str, str] = {}
            for event in obj.events:
                key = (slug, event)
                if live.mapping is None:
                    per_event[event] = "not_mapped"
                elif live.mapping.crm_objects.get(slug, "") is None:
                    per_event[event] = "opted_out"
                elif key in live.mapping.events:
                    per_event[event] = "mapped"
                elif key in live.mapping.broken:
                    per_event[event] = "broken"
                else:
                    per_event[event] = "not_mapped"
            status[slug] = per_event
        return status

    # -- invoking --------------------------------------------------------------------------------
    def invoke(
        self,
        connection_id: str,
        object: str,
        event: str,
        payload: Mapping[str, Any] | None = None,
        record_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> InvocationResult:
        """Invoke an event; returns the seed's record (or none) and the action taken.

        Raises the :mod:`crmlink.errors` class matching the failure. With ``idempotency_key``,
        a retry with the same request returns the first answer without writing again.
        """
        payload = {} if payload is None else payload
        started = time.perf_counter()
        entry = InvocationLog(
            self.app_id, connection_id, object, event, idempotency_key=idempotency_key
        )
        hook = self.plugins.hook
        claimed = False
        try:
            _observe(
                hook.before_invoke,
                app_id=self.app_id,
                connection_id=connection_id,
                object=object,
                event=event,
                payload=payload,
            )
            plan, read = self._prepare(connection_id, object, event, payload, record_id)
            if idempotency_key is not None:
                replay = self._claim(
                    idempotency_key, connection_id, object, event, payload, record_id
                )
                if replay is not None:
                    entry.action = replay.action.value
                    entry.record_id = replay.record.id if replay.record else None
                    return replay
                claimed = True
            with counting_crm_calls() as counter:
                try:
                    result = self._run(plan, read, payload, record_id, connection_id)
                finally:
                    entry.crm_calls = counter.calls
            entry.action = result.action.value
            entry.record_id = result.record.id if result.record else record_id
            if claimed:
                assert idempotency_key is not None
                self.store.complete_idempotency_key(
                    self.app_id, idempotency_key, {"status": 200, "body": result.as_dict()}
                )
            return result
        except CrmlinkError as exc:
            entry.status = "failed"
            entry.error_type = exc.type
            entry.error_message = exc.message
            if claimed:
                assert idempotency_key is not None
                if isinstance(exc, _TRANSIENT):
                    self.store.release_idempotency_key(self.app_id, idempotency_key)
                else:
                    self.store.complete_idempotency_key(
                        self.app_id, idempotency_key, {"status": exc.status, "body": exc.envelope()}
                    )
            raise
        except Exception as exc:
            entry.status = "failed"
            entry.error_type = "internal_error"
            entry.error_message = type(exc).__name__
            if claimed:
                assert idempotency_key is not None
                self.store.release_idempotency_key(self.app_id, idempotency_key)
            raise
        finally:
            entry.duration_ms = (time.perf_counter() - started) * 1000.0
            if (
                entry.error_type != "not_found"
                or self.store.connection_version(self.app_id, connection_id) is not None
            ):
                self.store.record_invocation(entry)
            _observe(hook.after_invoke, log=entry)

    def invocations(
        self,
        connection_id: str,
        *,
        event: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[InvocationLog]:
        """The audit log of a connection, newest first."""
        self.connection(connection_id)
        return self.store.list_invocations(
            self.app_id, connection_id, event=event, status=status, limit=limit, before=before
        )

    # -- internals -------------------------------------------------------------------------------
    def _prepare(
        self,
        connection_id: str,
        object: str,
        event: str,
        payload: Mapping[str, Any],
        record_id: str | None,
    ) -> tuple[EventPlan, ReadPlan]:
        live = self._live(connection_id)
        obj = live.definition.objects.get(object)
        if obj is None:
            raise NotFound(f"connection {connection_id!r} has no object {object!r}")
        event_def = obj.events.get(event)
        if event_def is None:
            raise NotFound(f"object {object!r} has no event {event!r}")
        if event_def.type is EventType.CREATE and record_id is not None:
            raise BadRequest(f"{event!r} is a create event: invoke it without a record id")
        if event_def.type in (EventType.UPDATE, EventType.DELETE) and record_id is None:
            raise BadRequest(
                f"{event!r} is an {event_def.type.value} event: invoke it on a record id"
            )
        validate_payload(event_def.payload_schema, payload, where=f"{object}.{event}")
        mapping = live.mapping
        if mapping is None:
            raise NotMapped(f"the end user has not mapped connection {connection_id!r} yet")
        plan = mapping.events.get((object, event))
        if plan is None:
            if mapping.crm_objects.get(object, "") is None:
                raise NotMapped(f"the end user chose not to map object {object!r} to their CRM")
            broken = mapping.broken.get((object, event))
            if broken:
                raise NotMapped(
                    f"the mapping of {object}.{event} no longer fits the definition: map it again",
                    errors=broken,
                )
            raise NotMapped(f"the end user has not mapped {object}.{event} yet")
        return plan, mapping.reads.get(object, ReadPlan())

    def _run(
        self,
        plan: EventPlan,
        read: ReadPlan,
        payload: Mapping[str, Any],
        record_id: str | None,
        connection_id: str,
    ) -> InvocationResult:
        native_id: str | None = None
        if record_id is not None:
            crm_object, native_id = parse_record_id(record_id)
            if crm_object != plan.crm_object:
                raise Conflict(
                    f"record {record_id!r} is a {crm_object}, but {plan.object!r} is mapped to "
                    f"{plan.crm_object}"
                )
        action = plan.action
        if action is Action.NOOP:
            return InvocationResult(Action.NOOP, None)
        connector = self._connector_by_id(connection_id)
        values = plan.render(payload)
        try:
            if action is Action.WORKFLOW:
                assert plan.workflow is not None
                connector.publish_workflow_event(
                    plan.workflow, values, object=plan.crm_object, id=native_id
                )
                return InvocationResult(Action.WORKFLOW, None, workflow_event=plan.workflow)
            if action is Action.DELETE:
                assert native_id is not None
                connector.delete(plan.crm_object, native_id)
                return InvocationResult(Action.DELETE, Record(plan.object, record_id or "", {}))
            if action is Action.CREATE:
                record = self._create(connector, plan, read, values)
            else:
                assert native_id is not None
                record = connector.update(
                    plan.crm_object, native_id, values, returning=read.returning
                )
        except CrmValidation as exc:
            if exc.mapping_path is None:
                fields = exc.crm.fields if exc.crm else ()
                exc.mapping_path = plan.path_of(fields[0]) if fields else plan.mapping_path
            raise
        record_ref = format_record_id(plan.crm_object, record.id)
        data = {} if plan.event_type is EventType.DELETE else read.apply(record.fields)
        return InvocationResult(action, Record(plan.object, record_ref, data))

    @staticmethod
    def _create(
        connector: Connector[Any], plan: EventPlan, read: ReadPlan, values: dict[str, Any]
    ) -> CrmRecord:
        try:
            return connector.create(plan.crm_object, values, returning=read.returning)
        except CrmValidation as exc:
            existing = exc.crm.existing_id if exc.crm else None
            if plan.on_duplicate != "update" or existing is None:
                raise
            return connector.update(plan.crm_object, existing, values, returning=read.returning)

    def _claim(
        self,
        key: str,
        connection_id: str,
        object: str,
        event: str,
        payload: Mapping[str, Any],
        record_id: str | None,
    ) -> InvocationResult | None:
        if not key or len(key) > 255:
            raise BadRequest("an Idempotency-Key must have 1 to 255 characters")
        fingerprint = hashlib.sha256(
            json.dumps(
                [connection_id, object, event, record_id, payload],
                sort_keys=True,
                separators=(",", ":"),
                default=str,
            ).encode()
        ).hexdigest()
        deadline = time.monotonic() + self.idempotency_wait
        while True:
            claim = self.store.claim_idempotency_key(
                self.app_id, key, fingerprint, self.idempotency_ttl
            )
            if claim.state == "new":
                return None
            if claim.state == "conflict":
                raise Conflict("this Idempotency-Key was already used with another request")
            if claim.state == "replay":
                assert claim.response is not None
                body = claim.response["body"]
                if "error" in body:
                    raise CrmlinkError.from_envelope(body)
                return InvocationResult.from_dict(body)
            if time.monotonic() > deadline:
                raise Conflict("a request with this Idempotency-Key is still running")
            time.sleep(0.02)

    def _live(self, connection_id: str) -> _Live:
        key = (self.app_id, connection_id)
        version = self._known_versions.get(connection_id)
        if version is None:
            version = self.store.connection_version(*key)
        if version is None:
            raise _no_connection(connection_id)
        live = self._shared.live.get(key)
        if live is not None and live.version == version:
            return live
        stored = self.store.get_connection(*key)
        if stored is None:
            raise _no_connection(connection_id)
        definition = parse_definition(stored.definition)
        compiled = None
        if stored.mapping is not None:
            snapshot = {
                name: CatalogObject.model_validate(obj)
                for name, obj in (stored.catalog or {}).items()
            }
            compiled = compile_mapping(
                definition, stored.mapping, snapshot.get, self.plugins.transforms(), strict=False
            )
        live = _Live(stored.version, stored.connector, definition, compiled)
        with self._shared.lock:
            self._shared.live[key] = live
        return live

    def _connector_by_id(self, connection_id: str) -> Connector[Any]:
        cached = self._shared.connectors.get((self.app_id, connection_id))
        if cached is not None:
            return cached[1]
        return self._connector(self.connection(connection_id))

    def _connector(self, stored: StoredConnection) -> Connector[Any]:
        key = (stored.app_id, stored.connection_id)
        fingerprint = stored.connector + json.dumps(stored.settings, sort_keys=True, default=str)
        cached = self._shared.connectors.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        with self._shared.lock:
            cached = self._shared.connectors.get(key)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            cls = self.plugins.connector(stored.connector)
            instance = cls.from_settings(stored.settings)
            old = self._shared.connectors.get(key)
            self._shared.connectors[key] = (fingerprint, instance)
        if old is not None:
            old[1].close()
        return instance


def _no_connection(connection_id: str) -> NotFound:
    return NotFound(f"no connection {connection_id!r}")


def _check_connection_id(connection_id: str) -> None:
    if not isinstance(connection_id, str) or not 1 <= len(connection_id) <= 255:
        raise BadRequest("a connection id must be a string of 1 to 255 characters")
    if any(ord(ch) < 32 for ch in connection_id):
        raise BadRequest("a connection id must not contain control characters")


def _validate_settings(cls: type[Connector[Any]], settings: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(settings, Mapping):
        raise SettingsInvalid(
            "settings must be an object",
            errors=[ErrorItem("settings", f"expected an object, got {type(settings).__name__}")],
        )
    try:
        model = cls.settings_model.model_validate(dict(settings))
    except ValidationError as exc:
        items = [
            ErrorItem(
                ".".join(["settings", *(str(p) for p in err["loc"])]),
                "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"]),
            )
            for err in exc.errors()
        ]
        raise SettingsInvalid(
            f"the {cls.name} settings were refused: {len(items)} problem(s)", errors=items
        ) from None
    del model  # validated; stored as given (the SQL store encrypts settings at rest)
    return dict(settings)


def _observe(hook: Any, **kwargs: Any) -> None:
    try:
        hook(**kwargs)
    except Exception:  # observers must never break an invocation
        log.exception("an observer hook failed")
