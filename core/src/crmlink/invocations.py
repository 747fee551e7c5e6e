"""The audit record of one invocation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

__all__ = ["InvocationLog"]


def _now() -> datetime:
    return datetime.now(UTC)


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
    id: str = field(default_factory=lambda: uuid4().hex)
    created_at: datetime = field(default_factory=_now)

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["created_at"] = self.created_at.isoformat()
        body.pop("app_id")
        return body
