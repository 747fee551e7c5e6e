"""Record ids: checksum, prefixes, 15/18-character forms."""

from __future__ import annotations

import pytest
from crmlink_salesforce.emulator.ids import IdAllocator, is_valid_id, normalize_id, to18

REAL_IDS = ["001D000000IqhSLIAZ", "0038M0000016Wv8QAE", "00190000001pPvHAAU", "a00D0000008pQSNIA2"]


@pytest.mark.parametrize("real", REAL_IDS)
def test_checksum_matches_real_salesforce_ids(real: str) -> None:
    assert to18(real[:15]) == real


def test_normalize_accepts_15_and_18_and_case_insensitive_suffix() -> None:
    assert normalize_id("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert normalize_id("001D000000IqhSLiaz") == "001D000000IqhSLIAZ"
    assert normalize_id("001D000000IqhSLAAA") is None
    assert normalize_id("001D000000IqhS") is None
    assert normalize_id("001D000000IqhSL!AZ") is None


def test_allocator_gives_distinct_valid_ids_with_prefix() -> None:
    allocator = IdAllocator()
    ids = [allocator.new("006") for _ in range(100)]
    assert len(set(ids)) == 100
    assert all(len(i) == 18 and is_valid_id(i, "006") for i in ids)
    assert not is_valid_id(ids[0], "003")
