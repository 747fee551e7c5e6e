"""What the emulated API answers: a status, a JSON or text body, headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Reply"]


@dataclass
class Reply:
    """An HTTP answer: status, JSON body (``None`` for no body) and extra headers.

    ``text`` (with ``content_type``) replaces the JSON body for CSV answers (Bulk API 2.0).
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    content_type: str = "application/json;charset=UTF-8"
