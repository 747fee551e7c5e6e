"""Bulk API 2.0 (``/jobs/ingest`` and ``/jobs/query``), as simple-salesforce's ``sf.bulk2`` uses it.

Ingest: create a job (``Open``), ``PUT .../batches`` the CSV (``201``), ``PATCH`` the state to
``UploadComplete``; the emulator then processes every row at once, so the next ``GET`` of the job
answers ``JobComplete`` with ``numberRecordsProcessed`` / ``numberRecordsFailed``, and the
``successfulResults`` / ``failedResults`` / ``unprocessedrecords`` CSVs are ready. Query: create a
job, poll it (``JobComplete``), page through ``results`` with ``maxRecords`` and the
``Sforce-Locator`` / ``Sforce-NumberOfRecords`` headers.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from typing import Any

from crmlink_salesforce.emulator.errors import ApiError
from crmlink_salesforce.emulator.ids import to18
from crmlink_salesforce.emulator.reply import Reply
from crmlink_salesforce.emulator.schema import ObjectDef
from crmlink_salesforce.emulator.soql import parse_query
from crmlink_salesforce.emulator.store import DEFAULT_USER_ID, OrgStore, format_datetime, now

__all__ = ["Bulk2"]

_DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
_INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
_CSV = "text/csv"


@dataclass
class _Job:
    id: str
    kind: str  # "ingest" or "query"
    operation: str
    object: str
    delimiter: str
    line_ending: str
    created: str
    external_id: str | None = None
    query: str | None = None
    state: str = "Open"
    data: list[str] = field(default_factory=list)
    successes: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    unprocessed: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def info(self, version: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": DEFAULT_USER_ID,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "jobType": "V2Ingest" if self.kind == "ingest" else "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": next(k for k, v in _DELIMITERS.items() if v == self.delimiter),
            "retries": 0,
            "totalProcessingTime": 0,
        }
        if self.kind == "ingest":
            body["externalIdFieldName"] = self.external_id
            body["numberRecordsProcessed"] = len(self.successes) + len(self.failures)
            body["numberRecordsFailed"] = len(self.failures)
            body["apiActiveProcessingTime"] = 0
            body["apexProcessingTime"] = 0
        else:
            body["numberRecordsProcessed"] = len(self.rows)
        return body


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str, line_ending: str) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=delimiter,
        quoting=csv.QUOTE_ALL,
        lineterminator="\r\n" if line_ending == "CRLF" else "\n",
    )
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Bulk2:
    """The Bulk API 2.0 jobs of one org."""

    def __init__(self, store: OrgStore) -> None:
        self.store = store
        self._jobs: dict[str, _Job] = {}
        self._seq = itertools.count(1)

    def reset(self) -> None:
        """Forget every job."""
        self._jobs.clear()

    def handle(
        self,
        method: str,
        version: str,
        kind: str,
        rest: list[str],
        params: dict[str, str],
        body: Any,
    ) -> Reply:
        """Route ``/jobs/<kind>/...``."""
        if not rest:
            if method == "POST":
                return self._create(version, kind, body)
            if method == "GET":
                jobs = [j.info(version) for j in self._jobs.values() if j.kind == kind]
                return Reply(200, {"done": True, "records": jobs, "nextRecordsUrl": None})
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")
        job = self._jobs.get(rest[0])
        if job is None or job.kind != kind:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rest) == 1:
            if method == "GET":
                return Reply(200, job.info(version))
            if method == "PATCH":
                return self._set_state(version, job, body)
            if method == "DELETE":
                if job.state in ("Open", "UploadComplete", "InProgress"):
                    raise ApiError(400, "INVALIDJOBSTATE", "Job is not in a terminal state")
                del self._jobs[job.id]
                return Reply(204)
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")
        part = rest[1]
        if kind == "ingest" and part == "batches" and method == "PUT":
            if job.state != "Open":
                raise ApiError(409, "INVALIDJOBSTATE", f"Job is in state {job.state}")
            if not isinstance(body, str) or not body.strip():
                raise ApiError(400, "INVALIDBATCH", "Batch data is empty or not CSV")
            job.data.append(body)
            return Reply(201)
        if kind == "ingest" and method == "GET":
            if part == "successfulResults":
                return self._results(job, ["sf__Id", "sf__Created"], job.successes)
            if part == "failedResults":
                return self._results(job, ["sf__Id", "sf__Error"], job.failures)
            if part.lower() == "unprocessedrecords":
                return self._results(job, [], job.unprocessed)
        if kind == "query" and part == "results" and method == "GET":
            return self._query_results(job, params)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    # -- jobs -------------------------------------------------------------------------------
    def _create(self, version: str, kind: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The job definition must be a JSON object")
        operation = str(body.get("operation", ""))
        delimiter = _DELIMITERS.get(str(body.get("columnDelimiter", "COMMA")))
        line_ending = str(body.get("lineEnding", "LF"))
        if delimiter is None or line_ending not in ("LF", "CRLF"):
            raise ApiError(400, "INVALIDJOB", "Unsupported columnDelimiter or lineEnding")
        job_id = to18(f"7505g{next(self._seq):010d}")
        created = format_datetime(now())
        if kind == "query":
            if operation not in ("query", "queryAll"):
                raise ApiError(400, "INVALIDJOB", f"Invalid operation for a query job: {operation}")
            query = parse_query(str(body.get("query", "")), self.store.schema)
            records = list(self.store.live(query.obj))
            if operation == "queryAll":
                records.extend(self.store.deleted(query.obj))
            rows = query.run(records)
            job = _Job(
                job_id,
                kind,
                operation,
                query.obj.name,
                delimiter,
                line_ending,
                created,
                query=str(body["query"]),
                state="UploadComplete",
            )
            job.columns = list(query.fields)
            job.rows = [[_cell(r.get(name)) for name in query.fields] for r in rows]
            self._jobs[job_id] = job
            reply = Reply(200, job.info(version))
            job.state = "JobComplete"
            return reply
        if operation not in _INGEST_OPERATIONS:
            raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        obj = self.store.schema.object(str(body.get("object", "")))
        if obj is None or obj.is_platform_event:
            raise ApiError(
                400,
                "INVALIDJOB",
                f"Entity '{body.get('object')}' is not supported by the Bulk API.",
            )
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            found = obj.field(str(external or ""))
            if found is None or not (found.external_id or found.type == "id"):
                raise ApiError(400, "INVALIDJOB", f"Invalid external id field: {external}")
            external = found.name
        job = _Job(
            job_id,
            kind,
            operation,
            obj.name,
            delimiter,
            line_ending,
            created,
            external_id=str(external) if external else None,
        )
        self._jobs[job_id] = job
        return Reply(200, job.info(version))

    def _set_state(self, version: str, job: _Job, body: Any) -> Reply:
        wanted = body.get("state") if isinstance(body, dict) else None
        if wanted == "Aborted" and job.state in ("Open", "UploadComplete", "InProgress"):
            job.state = "Aborted"
            return Reply(200, job.info(version))
        if wanted == "UploadComplete" and job.kind == "ingest" and job.state == "Open":
            job.state = "UploadComplete"
            self._process(job)
            reply = Reply(200, job.info(version))
            reply.body["state"] = "UploadComplete"
            return reply
        raise ApiError(
            400, "INVALIDJOBSTATE", f"Cannot change the job state from {job.state} to {wanted}"
        )

    # -- ingest -----------------------------------------------------------------------------
    def _process(self, job: _Job) -> None:
        obj = self.store.schema.objects[job.object]
        for chunk in job.data:
            reader = csv.DictReader(io.StringIO(chunk), delimiter=job.delimiter)
            if reader.fieldnames:
                job.columns = list(dict.fromkeys([*job.columns, *reader.fieldnames]))
            for row in reader:
                self._ingest_row(job, obj, {k: v or "" for k, v in row.items() if k})
        job.data.clear()
        job.state = "JobComplete"  # row errors do not fail a Bulk 2.0 job

    def _ingest_row(self, job: _Job, obj: ObjectDef, row: dict[str, str]) -> None:
        values: dict[str, Any] = {}
        for key, raw in row.items():
            if raw == "":
                continue  # empty cells are left alone; "#N/A" clears a field
            values[key] = None if raw == "#N/A" else raw
        try:
            created, id_ = self._apply(job, obj, values)
        except ApiError as error:
            fields = ";".join(error.fields or [])
            message = f"{error.code}:{error.message}:{fields} --"
            raw_id = row.get("Id") or row.get("id") or ""
            job.failures.append({"sf__Id": raw_id, "sf__Error": message, **row})
            return
        job.successes.append({"sf__Id": id_, "sf__Created": "true" if created else "false", **row})

    def _apply(self, job: _Job, obj: ObjectDef, values: dict[str, Any]) -> tuple[bool, str]:
        store = self.store
        if job.operation == "insert":
            return True, store.create(obj, values)
        if job.operation == "upsert":
            name = job.external_id or "Id"
            key = next((k for k in values if k.lower() == name.lower()), None)
            if key is None or values[key] in (None, ""):
                raise ApiError(400, "MISSING_ARGUMENT", f"{name} not specified", [name])
            value = str(values.pop(key))
            if name == "Id":
                id_ = store.resolve_id(obj, value, for_write=True)
                store.update(obj, id_, values)
                return False, id_
            matches = store.find_by(obj, obj.fields[name], value)
            if len(matches) > 1:
                raise ApiError(
                    300,
                    "DUPLICATE_EXTERNAL_ID",
                    f"The external ID {value} matches more than one record",
                    [name],
                )
            if matches:
                store.update(obj, matches[0], values)
                return False, matches[0]
            return True, store.create(obj, {**values, name: value})
        raw_id = next((str(v) for k, v in values.items() if k.lower() == "id"), "")
        if not raw_id:
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified", ["Id"])
        id_ = store.resolve_id(obj, raw_id, for_write=True)
        if job.operation == "update":
            store.update(obj, id_, {k: v for k, v in values.items() if k.lower() != "id"})
        else:
            store.delete(obj, id_)
        return False, id_

    def _results(self, job: _Job, head: list[str], rows: list[dict[str, str]]) -> Reply:
        if job.state not in ("JobComplete", "Failed", "Aborted"):
            raise ApiError(400, "INVALIDJOBSTATE", "Job is not complete")
        header = [*head, *job.columns]
        source = job.unprocessed if not head else rows
        text = _csv_text(
            header,
            [[r.get(name, "") for name in header] for r in source],
            job.delimiter,
            job.line_ending,
        )
        return Reply(200, text=text, content_type=_CSV)

    # -- query ------------------------------------------------------------------------------
    def _query_results(self, job: _Job, params: dict[str, str]) -> Reply:
        try:
            page = max(1, int(params.get("maxRecords") or 50000))
            start = int(params.get("locator") or 0)
        except ValueError:
            raise ApiError(400, "INVALIDLOCATOR", "invalid locator or maxRecords") from None
        rows = job.rows[start : start + page]
        end = start + len(rows)
        locator = str(end) if end < len(job.rows) else "null"
        text = _csv_text(job.columns, rows, job.delimiter, job.line_ending)
        return Reply(
            200,
            text=text,
            content_type=_CSV,
            headers={"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(rows))},
        )
