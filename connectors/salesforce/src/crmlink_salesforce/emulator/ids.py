"""Salesforce record ids: 15-character base-62 ids and their 18-character checksummed form.

The first three characters are the object's key prefix (``001`` Account, ``006`` Opportunity).
The 18-character form appends three characters computed from the case of the 15: each block of
five characters gives a 5-bit number (bit *j* set when character *j* is upper case), looked up in
``A-Z0-5``. The REST API always answers 18-character ids and accepts both forms.
"""

from __future__ import annotations

import re
import string

__all__ = ["IdAllocator", "is_valid_id", "normalize_id", "to18"]

_CHECKSUM_ALPHABET = string.ascii_uppercase + "012345"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ID15 = re.compile(r"^[a-zA-Z0-9]{15}$")
_ID18 = re.compile(r"^[a-zA-Z0-9]{18}$")


def _checksum(id15: str) -> str:
    chars = []
    for block in range(3):
        chunk = id15[block * 5 : block * 5 + 5]
        bits = sum(1 << j for j, c in enumerate(chunk) if "A" <= c <= "Z")
        chars.append(_CHECKSUM_ALPHABET[bits])
    return "".join(chars)


def to18(id15: str) -> str:
    """The 18-character form of a 15-character id."""
    if not _ID15.match(id15):
        raise ValueError(f"not a 15-character Salesforce id: {id15!r}")
    return id15 + _checksum(id15)


def normalize_id(value: str) -> str | None:
    """The canonical 18-character id for a 15- or 18-character id, or ``None`` if malformed.

    An 18-character id must carry the right checksum (compared case-insensitively, as Salesforce
    does); its first 15 characters are kept as given because they are case-sensitive.
    """
    if _ID15.match(value):
        return to18(value)
    if _ID18.match(value):
        head = value[:15]
        if _checksum(head) == value[15:].upper():
            return head + _checksum(head)
    return None


def is_valid_id(value: str, key_prefix: str | None = None) -> bool:
    """Whether ``value`` is a well-formed id (optionally of the object with ``key_prefix``)."""
    canonical = normalize_id(value)
    if canonical is None:
        return False
    return key_prefix is None or canonical.startswith(key_prefix)


class IdAllocator:
    """Allocates sequential 18-character ids per key prefix (``0065g0000000001AAA`` style)."""

    _POD = "5g0"

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def new(self, key_prefix: str) -> str:
        """A fresh id for an object with ``key_prefix`` (three characters)."""
        n = self._next.get(key_prefix, 1)
        self._next[key_prefix] = n + 1
        digits = []
        for _ in range(9):
            n, r = divmod(n, 62)
            digits.append(_BASE62[r])
        return to18(key_prefix + self._POD + "".join(reversed(digits)))

    def reset(self) -> None:
        """Start every sequence again."""
        self._next.clear()
