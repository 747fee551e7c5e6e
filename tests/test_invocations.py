"""The audit record: its ids are unique and ordered by time (UUID version 7)."""

from __future__ import annotations

import time
import uuid

from crmlink.invocations import InvocationLog


def test_ids_are_uuid7_unique_and_ordered_by_time() -> None:
    earlier = [InvocationLog("app", "conn", "o", "e").id for _ in range(1000)]
    time.sleep(0.002)
    later = InvocationLog("app", "conn", "o", "e").id
    assert len(set(earlier)) == 1000
    for value in (*earlier, later):
        parsed = uuid.UUID(value)
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert value == parsed.hex  # 32 lowercase hex digits
    assert all(later > value for value in earlier)
    millis = int(later[:12], 16)
    assert abs(millis - time.time() * 1000) < 60_000
