"""A store in process memory: the in-process default, and what tests and benchmarks use."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from crmlink.invocations import InvocationLog
from crmlink.store.base import IdempotencyClaim, StoredConnection, first_version

__all__ = ["MemoryStore"]


class MemoryStore:
    """Thread-safe; keeps the newest ``max_invocations`` log entries per connection."""

    def __init__(self, *, max_invocations: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._connections: dict[tuple[str, str], StoredConnection] = {}
        self._logs: dict[tuple[str, str], deque[InvocationLog]] = {}
        self._keys: dict[tuple[str, str], tuple[str, datetime, dict[str, Any] | None]] = {}
        self._max = max_invocations

    def get_connection(self, app_id: str, connection_id: str) -> StoredConnection | None:
        found = self._connections.get((app_id, connection_id))
        return replace(found) if found is not None else None

    def connection_version(self, app_id: str, connection_id: str) -> int | None:
        found = self._connections.get((app_id, connection_id))
        return found.version if found is not None else None

    def put_connection(self, connection: StoredConnection) -> StoredConnection:
        with self._lock:
            key = (connection.app_id, connection.connection_id)
            old = self._connections.get(key)
            stored = replace(
                connection,
                version=(old.version + 1) if old else first_version(),
                created_at=old.created_at if old else connection.created_at,
                updated_at=datetime.now(UTC),
            )
            self._connections[key] = stored
            return replace(stored)

    def delete_connection(self, app_id: str, connection_id: str) -> bool:
        with self._lock:
            self._logs.pop((app_id, connection_id), None)
            return self._connections.pop((app_id, connection_id), None) is not None

    def list_connections(
        self, app_id: str, *, limit: int = 50, after: str | None = None
    ) -> list[StoredConnection]:
        ids = sorted(cid for (app, cid) in self._connections if app == app_id)
        if after is not None:
            ids = [cid for cid in ids if cid > after]
        return [replace(self._connections[(app_id, cid)]) for cid in ids[:limit]]

    def record_invocation(self, log: InvocationLog) -> None:
        with self._lock:
            key = (log.app_id, log.connection_id)
            logs = self._logs.get(key)
            if logs is None:
                logs = self._logs[key] = deque(maxlen=self._max)
            logs.append(log)

    def list_invocations(
        self,
        app_id: str,
        connection_id: str,
        *,
        event: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[InvocationLog]:
        with self._lock:
            logs = list(self._logs.get((app_id, connection_id), ()))
        logs.reverse()
        if before is not None:
            ids = [log.id for log in logs]
            logs = logs[ids.index(before) + 1 :] if before in ids else []
        picked = [
            log
            for log in logs
            if (event is None or log.event == event) and (status is None or log.status == status)
        ]
        return picked[:limit]

    def claim_idempotency_key(
        self, app_id: str, key: str, fingerprint: str, ttl: timedelta
    ) -> IdempotencyClaim:
        now = datetime.now(UTC)
        with self._lock:
            found = self._keys.get((app_id, key))
            if found is not None and found[1] + ttl < now:
                found = None
            if found is None:
                self._keys[(app_id, key)] = (fingerprint, now, None)
                return IdempotencyClaim("new")
            stored_fingerprint, _, response = found
            if stored_fingerprint != fingerprint:
                return IdempotencyClaim("conflict")
            if response is None:
                return IdempotencyClaim("running")
            return IdempotencyClaim("replay", response)

    def complete_idempotency_key(self, app_id: str, key: str, response: dict[str, Any]) -> None:
        with self._lock:
            fingerprint, created, _ = self._keys[(app_id, key)]
            self._keys[(app_id, key)] = (fingerprint, created, response)

    def release_idempotency_key(self, app_id: str, key: str) -> None:
        with self._lock:
            self._keys.pop((app_id, key), None)
