"""The Store protocol: everything the engine persists, always scoped to an app."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from crmlink.invocations import InvocationLog

__all__ = ["IdempotencyClaim", "Store", "StoredConnection", "first_version"]


def _now() -> datetime:
    return datetime.now(UTC)


def first_version() -> int:
    """The version a newly created connection starts at: microseconds since the epoch.

    Engines, in other processes too, cache a connection's compiled mapping and its connector
    under its version. A connection deleted and created again under the same id must not repeat
    a version such a cache may hold (it would be served the old mapping and credentials), so
    versions do not restart at 1; updates add 1.
    """
    return time.time_ns() // 1000


@dataclass(slots=True)
class StoredConnection:
    """A connection as stored. ``settings`` is plaintext here; stores encrypt it at rest."""

    app_id: str
    connection_id: str
    connector: str
    settings: dict[str, Any]
    definition: dict[str, Any]
    mapping: dict[str, Any] | None = None
    catalog: dict[str, Any] | None = None
    """Snapshot of the catalog objects the saved mapping was validated against."""
    version: int = 1
    """Set by the store: unique to this incarnation of the connection (see
    :func:`first_version`) and bumped on every change, so cached state can be checked cheaply."""
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """The outcome of claiming an idempotency key.

    ``new``: the caller owns the key and must ``complete`` or ``release`` it; ``replay``: the
    stored ``response`` is the answer; ``conflict``: the key was used with another request;
    ``running``: the first request with this key has not finished.
    """

    state: Literal["new", "replay", "conflict", "running"]
    response: dict[str, Any] | None = None


class Store(Protocol):
    """What the engine needs from storage. Every method is scoped to ``app_id``."""

    def get_connection(self, app_id: str, connection_id: str) -> StoredConnection | None: ...

    def connection_version(self, app_id: str, connection_id: str) -> int | None:
        """The current version of a connection (cheap), or ``None`` if it does not exist."""
        ...

    def put_connection(self, connection: StoredConnection) -> StoredConnection:
        """Create or replace a connection; returns it with its new version."""
        ...

    def delete_connection(self, app_id: str, connection_id: str) -> bool: ...

    def list_connections(
        self, app_id: str, *, limit: int = 50, after: str | None = None
    ) -> list[StoredConnection]:
        """Connections ordered by id, those after ``after``."""
        ...

    def record_invocation(self, log: InvocationLog) -> None: ...

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
        """Newest first; ``before`` is the id of the last entry of the previous page."""
        ...

    def claim_idempotency_key(
        self, app_id: str, key: str, fingerprint: str, ttl: timedelta
    ) -> IdempotencyClaim: ...

    def complete_idempotency_key(self, app_id: str, key: str, response: dict[str, Any]) -> None: ...

    def release_idempotency_key(self, app_id: str, key: str) -> None: ...
