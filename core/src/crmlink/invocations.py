"""The audit record of one invocation."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["InvocationLog"]


def _now() -> datetime:
    return datetime.now(UTC)


def _time_ordered_id() -> str:
    """A UUID version 7 (RFC 9562) as 32 hex digits: 48 bits of Unix milliseconds, then random.

    Ids made later sort later, so the audit log's unique index grows at its right edge instead
    of taking every new id at a random page (which slows inserts as the log grows).
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(secrets.token_bytes(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant 10
    return f"{value:032x}"


@dataclass(slots=True)
class InvocationLog:
    """What happened when an event was invoked: outcome, cost and error, never the payload."""

    app_id: str
    connection_id: str
    object: str
    event: str
    status: str = "succeeded"
    """``succeeded`` or ``failed``."""
    action: str | None = None
    record_id: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    duration_ms: float = 0.0
    crm_calls: int = 0
    idempotency_key: str | None = None
    id: str = field(default_factory=_time_ordered_id)
    created_at: datetime = field(default_factory=_now)

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["created_at"] = self.created_at.isoformat()
        body.pop("app_id")
        return body
