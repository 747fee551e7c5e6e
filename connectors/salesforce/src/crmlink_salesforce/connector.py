"""``SalesforceConnector``: crmlink's connector for Salesforce, on simple-salesforce.

One HTTP call per event: create and update go through Composite (the write and a read-back GET
of the same record in one request); delete is one DELETE; a ``workflow`` action publishes the
Platform Event the end user named. Batches use sObject Collections, 200 records per collection,
paired with a read-back inside one Composite request. Errors are normalized by
:mod:`crmlink_salesforce.errors`; 5xx answers and timeouts are retried a bounded number of times
with exponential backoff; an expired session is refreshed once (OAuth settings only).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from crmlink.catalog import CatalogObject, ObjectSummary
from crmlink.connector import Capability, Connector, Health
from crmlink.errors import (
    ConnectionUnhealthy,
    CrmError,
    CrmlinkError,
    CrmUnavailable,
    NotFound,
)
from crmlink.records import BatchResult, CrmRecord
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from crmlink_salesforce.catalog import object_from_describe, summary_from_describe
from crmlink_salesforce.errors import crm_error, error_from_items, first_error, is_rolled_back
from crmlink_salesforce.settings import SalesforceSettings
from crmlink_salesforce.transport import ApiUsage, build_session, client_instance_url

__all__ = ["SalesforceConnector"]

T = TypeVar("T")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_COLLECTION_SIZE = 200
_PAIRS_PER_COMPOSITE = 2  # write + read-back collections: 4 of the 5 allowed per Composite
_DELETES_PER_COMPOSITE = 5


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Field values as JSON for Salesforce: dates and date-times in ISO 8601, decimals as
    numbers (simple-salesforce sends ``json=`` bodies as they are)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, date):  # datetime is a date too
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        out[str(key)] = value
    return out


class SalesforceConnector(Connector[SalesforceSettings]):
    """A connection to one Salesforce org (see :class:`SalesforceSettings`)."""

    name = "salesforce"
    settings_model = SalesforceSettings
    capabilities = frozenset({Capability.WORKFLOW, Capability.BATCH, Capability.UPSERT})

    def __init__(self, settings: SalesforceSettings) -> None:
        super().__init__(settings)
        self._usage: ApiUsage | None = None
        self._session = build_session(settings.instance_url, settings.timeout, self._set_usage)
        self._token: str | None = (
            settings.access_token.get_secret_value() if settings.access_token else None
        )
        self._sf: Salesforce | None = None
        self._lock = threading.Lock()
        self._objects: list[ObjectSummary] | None = None
        self._catalog: dict[str, CatalogObject] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def _set_usage(self, usage: ApiUsage) -> None:
        self._usage = usage

    @property
    def _base(self) -> str:
        return f"/services/data/v{self.settings.api_version}"

    def _client(self) -> Salesforce:
        with self._lock:
            if self._token is None:
                self._refresh_locked()
            if self._sf is None:
                assert self._token is not None
                self._sf = Salesforce(
                    instance_url=client_instance_url(self.settings.instance_url),
                    session_id=self._token,
                    session=self._session,
                    version=self.settings.api_version,
                )
            return self._sf

    def _refresh(self, stale: Salesforce | None) -> None:
        with self._lock:
            if stale is not None and self._sf is not stale:
                return  # another thread refreshed meanwhile
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        settings = self.settings
        if not settings.can_refresh:
            raise ConnectionUnhealthy(
                "Salesforce session expired or invalid and no OAuth refresh is configured",
                crm=CrmError("INVALID_SESSION_ID", "Session expired or invalid"),
            )
        assert settings.refresh_token is not None
        assert settings.client_id is not None
        form = {
            "grant_type": "refresh_token",
            "client_id": settings.client_id,
            "refresh_token": settings.refresh_token.get_secret_value(),
        }
        if settings.client_secret is not None:
            form["client_secret"] = settings.client_secret.get_secret_value()
        try:
            response = self._session.post(settings.oauth_token_url, data=form)
        except requests.RequestException as exc:
            raise CrmUnavailable(f"Salesforce token endpoint unreachable: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 500:
            raise CrmUnavailable(f"Salesforce token endpoint answered {response.status_code}")
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            code = str(body.get("error", "invalid_grant")) if isinstance(body, dict) else "error"
            message = str(body.get("error_description", "")) if isinstance(body, dict) else ""
            raise ConnectionUnhealthy(
                f"Salesforce refused the OAuth refresh: {code}: {message}",
                crm=CrmError(code, message),
            )
        self._token = str(body["access_token"])
        self._sf = None

    def _call(self, operation: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        """Run one API operation with bounded retries and one session refresh."""
        refreshed = False
        attempt = 0
        while True:
            sf = self._client()
            try:
                return operation(sf)
            except SalesforceError as exc:
                status = int(exc.status or 0)
                if status == 401 and not refreshed and self.settings.can_refresh:
                    refreshed = True
                    self._refresh(sf)
                    continue
                if status >= 500 and attempt < self.settings.max_retries:
                    self._backoff(attempt)
                    attempt += 1
                    continue
                raise error_from_items(status, exc.content) from None
            except requests.ConnectionError as exc:
                if attempt < self.settings.max_retries:
                    self._backoff(attempt)
                    attempt += 1
                    continue
                raise CrmUnavailable(f"Salesforce unreachable: {exc}") from None
            except requests.Timeout as exc:
                if idempotent and attempt < self.settings.max_retries:
                    self._backoff(attempt)
                    attempt += 1
                    continue
                raise CrmUnavailable(f"Salesforce timed out: {exc}") from None
            except requests.RequestException as exc:
                raise CrmUnavailable(f"Salesforce request failed: {exc}") from None

    def _backoff(self, attempt: int) -> None:
        time.sleep(self.settings.retry_backoff * (2**attempt))

    def _composite(
        self, subrequests: list[dict[str, Any]], *, all_or_none: bool, idempotent: bool
    ) -> dict[str, dict[str, Any]]:
        """POST one Composite request; its subresponses by ``referenceId``."""
        body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
        result = self._call(
            lambda sf: sf.restful("composite", method="POST", json=body), idempotent=idempotent
        )
        if not isinstance(result, dict) or not isinstance(result.get("compositeResponse"), list):
            raise CrmUnavailable("Salesforce answered a Composite request without results")
        return {r["referenceId"]: r for r in result["compositeResponse"]}

    @staticmethod
    def _check_name(value: str, what: str) -> str:
        if not _NAME.match(value):
            raise NotFound(f"{value!r} is not a Salesforce {what} name")
        return value

    @staticmethod
    def _check_id(value: str) -> str:
        if not _ID.match(value):
            raise NotFound(f"{value!r} is not a Salesforce record id")
        return value

    def _fields_param(self, returning: Sequence[str] | None) -> str:
        if returning is None:
            return ""
        names = ["Id"] + [self._check_name(f, "field") for f in returning if f != "Id"]
        return "?fields=" + ",".join(dict.fromkeys(names))

    @staticmethod
    def _record(obj: str, body: Any) -> CrmRecord:
        if not isinstance(body, dict) or "Id" not in body:
            raise CrmUnavailable("Salesforce answered a read without the record")
        fields = {k: v for k, v in body.items() if k != "attributes"}
        return CrmRecord(obj, str(body["Id"]), fields)

    @staticmethod
    def _raise_for(response: dict[str, Any]) -> None:
        status = int(response.get("httpStatusCode", 500))
        if status >= 400:
            raise error_from_items(status, response.get("body"))

    def _write_then_read(
        self, obj: str, write: dict[str, Any], read_url: str, *, idempotent: bool
    ) -> CrmRecord:
        responses = self._composite(
            [write, {"method": "GET", "url": read_url, "referenceId": "read"}],
            all_or_none=True,
            idempotent=idempotent,
        )
        written, read = responses.get("write", {}), responses.get("read", {})
        failed = [r for r in (written, read) if int(r.get("httpStatusCode", 500)) >= 400]
        if failed:
            # with allOrNone the other subrequest only says "rolled back": report the cause
            cause = next((r for r in failed if not is_rolled_back(r.get("body"))), failed[0])
            self._raise_for(cause)
        return self._record(obj, read.get("body"))

    # -- catalog ----------------------------------------------------------------------------
    def list_objects(self) -> list[ObjectSummary]:
        """Objects that can be created (records or Platform Events), from ``sobjects``."""
        if self._objects is None:
            body = self._call(lambda sf: sf.describe())
            sobjects = body.get("sobjects", []) if isinstance(body, dict) else []
            self._objects = [
                summary_from_describe(s) for s in sobjects if s.get("createable", False)
            ]
        return list(self._objects)

    def describe_object(self, name: str) -> CatalogObject:
        """The object's fields from ``sobjects/<name>/describe``, cached until refreshed."""
        self._check_name(name, "object")
        cached = self._catalog.get(name)
        if cached is None:
            body = self._call(lambda sf: sf.restful(f"sobjects/{name}/describe"))
            if not isinstance(body, dict):
                raise NotFound(f"Salesforce has no object {name!r}")
            cached = object_from_describe(body)
            self._catalog[name] = cached
        return cached.model_copy(deep=True)

    def refresh_catalog(self) -> None:
        """Forget the cached object list and describes."""
        self._objects = None
        self._catalog.clear()

    # -- records ----------------------------------------------------------------------------
    def create(
        self, object: str, values: Mapping[str, Any], *, returning: Sequence[str] | None = None
    ) -> CrmRecord:
        """Insert and read back in one Composite call."""
        obj = self._check_name(object, "object")
        write = {
            "method": "POST",
            "url": f"{self._base}/sobjects/{obj}",
            "referenceId": "write",
            "body": _jsonable(values),
        }
        read_url = f"{self._base}/sobjects/{obj}/@{{write.id}}{self._fields_param(returning)}"
        return self._write_then_read(obj, write, read_url, idempotent=False)

    def update(
        self,
        object: str,
        id: str,
        values: Mapping[str, Any],
        *,
        returning: Sequence[str] | None = None,
    ) -> CrmRecord:
        """PATCH and read back in one Composite call."""
        obj = self._check_name(object, "object")
        rid = self._check_id(id)
        url = f"{self._base}/sobjects/{obj}/{rid}"
        write = {"method": "PATCH", "url": url, "referenceId": "write", "body": _jsonable(values)}
        return self._write_then_read(
            obj, write, url + self._fields_param(returning), idempotent=True
        )

    def upsert(
        self,
        object: str,
        external_id_field: str,
        external_id: str,
        values: Mapping[str, Any],
        *,
        returning: Sequence[str] | None = None,
    ) -> tuple[CrmRecord, bool]:
        """Insert or update by external id in one Composite call; ``(record, created)``."""
        obj = self._check_name(object, "object")
        field = self._check_name(external_id_field, "field")
        url = f"{self._base}/sobjects/{obj}/{field}/{quote(external_id, safe='')}"
        write = {"method": "PATCH", "url": url, "referenceId": "write", "body": _jsonable(values)}
        read_url = f"{self._base}/sobjects/{obj}/@{{write.id}}{self._fields_param(returning)}"
        responses = self._composite(
            [write, {"method": "GET", "url": read_url, "referenceId": "read"}],
            all_or_none=True,
            idempotent=True,
        )
        written = responses.get("write", {})
        self._raise_for(written)
        self._raise_for(responses.get("read", {}))
        created = bool((written.get("body") or {}).get("created", False))
        return self._record(obj, responses["read"].get("body")), created

    def delete(self, object: str, id: str) -> None:
        """One DELETE; ``NotFound`` for a missing or already deleted record."""
        obj = self._check_name(object, "object")
        rid = self._check_id(id)
        self._call(lambda sf: sf.restful(f"sobjects/{obj}/{rid}", method="DELETE"))

    def get(self, object: str, id: str, *, returning: Sequence[str] | None = None) -> CrmRecord:
        """One GET of the record (only ``returning`` fields, plus Id, when given)."""
        obj = self._check_name(object, "object")
        rid = self._check_id(id)
        path = f"sobjects/{obj}/{rid}{self._fields_param(returning)}"
        return self._record(obj, self._call(lambda sf: sf.restful(path)))

    def publish_workflow_event(
        self,
        event: str,
        values: Mapping[str, Any],
        *,
        object: str | None = None,
        id: str | None = None,
    ) -> str | None:
        """Publish the Platform Event ``event`` (``X__e``); returns its EventUuid (or id)."""
        name = self._check_name(event, "Platform Event")
        body = _jsonable(values)
        if object is not None and self.settings.workflow_object_field:
            body.setdefault(self.settings.workflow_object_field, object)
        if id is not None and self.settings.workflow_record_id_field:
            body.setdefault(self.settings.workflow_record_id_field, id)
        result = self._call(
            lambda sf: sf.restful(f"sobjects/{name}/", method="POST", json=body),
            idempotent=False,
        )
        if not isinstance(result, dict) or not result.get("success", False):
            errors = result.get("errors", []) if isinstance(result, dict) else []
            raise error_from_items(400, errors)
        for item in result.get("errors") or []:
            if item.get("statusCode") == "OPERATION_ENQUEUED":
                return str(item.get("message"))
        return str(result["id"]) if result.get("id") else None

    def health(self) -> Health:
        """``limits/`` (a cheap call) with the API usage Salesforce reports."""
        try:
            limits = self._call(lambda sf: sf.limits())
        except CrmlinkError as exc:
            return Health(
                ok=False, message=f"{exc.type}: {exc.message}", api_usage=self._usage_dict()
            )
        daily = limits.get("DailyApiRequests") if isinstance(limits, dict) else None
        if self._usage is None and isinstance(daily, dict):
            self._usage = (int(daily["Max"]) - int(daily["Remaining"]), int(daily["Max"]))
        return Health(ok=True, api_usage=self._usage_dict())

    def _usage_dict(self) -> dict[str, int] | None:
        if self._usage is None:
            return None
        return {"used": self._usage[0], "limit": self._usage[1]}

    @property
    def api_usage(self) -> dict[str, int] | None:
        """The last ``Sforce-Limit-Info`` seen: ``{"used": n, "limit": m}``."""
        return self._usage_dict()

    # -- batches ----------------------------------------------------------------------------
    def create_many(
        self,
        object: str,
        records: Sequence[Mapping[str, Any]],
        *,
        returning: Sequence[str] | None = None,
    ) -> list[BatchResult]:
        """sObject Collections inserts of 200, each read back in the same Composite call."""
        obj = self._check_name(object, "object")
        items = [_jsonable(v) for v in records]
        return self._write_many(obj, items, [None] * len(items), returning)

    def update_many(
        self,
        object: str,
        updates: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        returning: Sequence[str] | None = None,
    ) -> list[BatchResult]:
        """sObject Collections updates of 200, each read back in the same Composite call."""
        obj = self._check_name(object, "object")
        ids: list[str | None] = [id_ for id_, _ in updates]
        return self._write_many(obj, [_jsonable(v) for _, v in updates], ids, returning)

    def _read_fields(self, items: list[dict[str, Any]], returning: Sequence[str] | None) -> str:
        names = list(returning) if returning is not None else [k for v in items for k in v]
        return ",".join(dict.fromkeys(["Id"] + [self._check_name(n, "field") for n in names]))

    def _write_many(
        self,
        obj: str,
        items: list[dict[str, Any]],
        ids: list[str | None],
        returning: Sequence[str] | None,
    ) -> list[BatchResult]:
        results: list[BatchResult] = []
        chunks = [
            range(i, min(i + _COLLECTION_SIZE, len(items)))
            for i in range(0, len(items), _COLLECTION_SIZE)
        ]
        for start in range(0, len(chunks), _PAIRS_PER_COMPOSITE):
            group = chunks[start : start + _PAIRS_PER_COMPOSITE]
            results.extend(self._write_group(obj, items, ids, group, returning))
        return results

    def _write_group(
        self,
        obj: str,
        items: list[dict[str, Any]],
        ids: list[str | None],
        group: list[range],
        returning: Sequence[str] | None,
    ) -> list[BatchResult]:
        creating = ids[group[0][0]] is None
        subrequests: list[dict[str, Any]] = []
        for n, chunk in enumerate(group):
            records = []
            for i in chunk:
                record: dict[str, Any] = {"attributes": {"type": obj}, **items[i]}
                if not creating:
                    record["id"] = self._check_id(str(ids[i]))
                records.append(record)
            fields = self._read_fields([items[i] for i in chunk], returning)
            if creating:
                refs = ",".join(f"@{{w{n}[{k}].id}}" for k in range(len(chunk)))
            else:
                refs = ",".join(str(ids[i]) for i in chunk)
            subrequests.append(
                {
                    "method": "POST" if creating else "PATCH",
                    "url": f"{self._base}/composite/sobjects",
                    "referenceId": f"w{n}",
                    "body": {"allOrNone": False, "records": records},
                }
            )
            subrequests.append(
                {
                    "method": "GET",
                    "url": f"{self._base}/composite/sobjects/{obj}?ids={refs}&fields={fields}",
                    "referenceId": f"r{n}",
                }
            )
        responses = self._composite(subrequests, all_or_none=False, idempotent=not creating)
        out: list[BatchResult] = []
        for n, chunk in enumerate(group):
            written = responses.get(f"w{n}", {})
            self._raise_for(written)
            saves = written.get("body") or []
            read = responses.get(f"r{n}", {})
            if int(read.get("httpStatusCode", 500)) < 400:
                rows = list(read.get("body") or [])
            else:  # a record failed, so its id could not be referenced: read the others
                good = [str(s["id"]) for s in saves if s.get("success")]
                fields = self._read_fields([items[i] for i in chunk], returning)
                rows = self._read_rows(obj, good, fields) if good else []
            by_id = {str(r["Id"]): r for r in rows if isinstance(r, dict) and "Id" in r}
            for save in saves[: len(chunk)]:
                if save.get("success"):
                    row = by_id.get(str(save.get("id")))
                    done = (
                        self._record(obj, row)
                        if row is not None
                        else CrmRecord(obj, str(save.get("id")), {"Id": save.get("id")})
                    )
                    out.append(BatchResult(record=done))
                else:
                    errors = save.get("errors") or [{}]
                    out.append(BatchResult(error=crm_error(first_error(errors))))
        return out

    def _read_rows(self, obj: str, ids: list[str], fields: str) -> list[Any]:
        body = {"ids": ids, "fields": fields.split(",")}
        rows = self._call(
            lambda sf: sf.restful(f"composite/sobjects/{obj}", method="POST", json=body)
        )
        return list(rows or [])

    def delete_many(self, object: str, ids: Sequence[str]) -> list[BatchResult]:
        """sObject Collections deletes of 200, up to five collections per Composite call."""
        obj = self._check_name(object, "object")
        out: list[BatchResult] = []
        group_size = _COLLECTION_SIZE * _DELETES_PER_COMPOSITE
        for start in range(0, len(ids), group_size):
            group = list(ids[start : start + group_size])
            subrequests = []
            for n in range(0, len(group), _COLLECTION_SIZE):
                chunk = [self._check_id(i) for i in group[n : n + _COLLECTION_SIZE]]
                subrequests.append(
                    {
                        "method": "DELETE",
                        "url": f"{self._base}/composite/sobjects?ids={','.join(chunk)}"
                        "&allOrNone=false",
                        "referenceId": f"d{n // _COLLECTION_SIZE}",
                    }
                )
            responses = self._composite(subrequests, all_or_none=False, idempotent=True)
            for n, sub in enumerate(subrequests):
                response = responses.get(str(sub["referenceId"]), {})
                self._raise_for(response)
                chunk_ids = group[n * _COLLECTION_SIZE : (n + 1) * _COLLECTION_SIZE]
                for id_, result in zip(chunk_ids, response.get("body") or [], strict=False):
                    if result.get("success"):
                        out.append(BatchResult(record=CrmRecord(obj, str(result.get("id", id_)))))
                    else:
                        errors = result.get("errors") or [{}]
                        out.append(BatchResult(error=crm_error(first_error(errors))))
        return out

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
