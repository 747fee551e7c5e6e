"""Salesforce API errors as the emulator raises and renders them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["ApiError"]


class ApiError(Exception):
    """One Salesforce error: HTTP status, ``errorCode``, message and the fields it names.

    Single-record REST answers render it as ``[{"message", "errorCode", "fields"}]``; sObject
    Collections results use ``statusCode`` instead of ``errorCode`` (``as_status``).
    """

    def __init__(
        self, status: int, code: str, message: str, fields: Sequence[str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields) if fields is not None else None

    def as_body(self) -> list[dict[str, Any]]:
        """The JSON-array body of a REST error response."""
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def as_status(self) -> dict[str, Any]:
        """The entry of a SaveResult ``errors`` list (sObject Collections)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}
