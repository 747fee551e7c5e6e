"""HubSpot's batch write semantics over a :class:`PortalStore`.

Without ``objectWriteTraceId`` on every input a batch is all-or-nothing: the first refused input
fails the whole request (400, 404 or 409 — a duplicate contact email names only the first
duplicate). With a trace id on every input HubSpot answers per input: 201/200 when all succeed,
207 with one ``errors`` entry per refused input, its ``context.objectWriteTraceId`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmlink_hubspot.emulator.errors import ApiError
from crmlink_hubspot.emulator.schema import ObjectSchema
from crmlink_hubspot.emulator.store import PortalStore, StoredRecord

__all__ = ["MAX_BATCH_INPUTS", "BatchOutcome", "run_batch"]

MAX_BATCH_INPUTS = 100


@dataclass
class BatchOutcome:
    """Per-input results (in input order) and per-input errors of one batch call."""

    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def check_inputs(body: Any) -> list[dict[str, Any]]:
    """The ``inputs`` list of a batch body, or HubSpot's 400 (missing, not a list, over 100)."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise ApiError(status=400, category="VALIDATION_ERROR", message="Invalid input JSON")
    if len(inputs) > MAX_BATCH_INPUTS:
        raise ApiError(
            status=400,
            category="VALIDATION_ERROR",
            message=(
                f"Batch input size {len(inputs)} is greater than the maximum "
                f"of {MAX_BATCH_INPUTS} inputs"
            ),
            context={"size": [str(len(inputs))], "limit": [str(MAX_BATCH_INPUTS)]},
        )
    return inputs


def run_batch(
    store: PortalStore,
    schema: ObjectSchema,
    inputs: list[dict[str, Any]],
    one: Callable[[dict[str, Any]], dict[str, Any]],
) -> BatchOutcome:
    """Apply ``one`` to every input with HubSpot's all-or-nothing / multi-status rules."""
    multi = bool(inputs) and all(i.get("objectWriteTraceId") for i in inputs)
    outcome = BatchOutcome()
    with store._lock:
        if not multi:
            snapshot = _snapshot(store, schema)
            try:
                outcome.results = [one(item) for item in inputs]
            except ApiError:
                _restore(store, schema, snapshot)
                raise
            return outcome
        for item in inputs:
            try:
                outcome.results.append(one(item))
            except ApiError as err:
                outcome.errors.append(err.batch_entry(str(item["objectWriteTraceId"])))
    return outcome


def _snapshot(store: PortalStore, schema: ObjectSchema) -> dict[str, StoredRecord]:
    bucket = store._bucket(schema)
    return {
        k: StoredRecord(r.id, dict(r.properties), r.created_at, r.updated_at)
        for k, r in bucket.records.items()
    }


def _restore(store: PortalStore, schema: ObjectSchema, snapshot: dict[str, StoredRecord]) -> None:
    store._bucket(schema).records = snapshot
