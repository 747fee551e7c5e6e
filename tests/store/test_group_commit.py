"""Group commit: every writer returns after its own item is written; errors reach each writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest
from crmlink.store.group_commit import GroupCommit


def test_concurrent_writers_share_batches_and_all_are_written() -> None:
    written: list[int] = []
    batches: list[int] = []

    def write_many(items: Sequence[int]) -> None:
        time.sleep(0.005)  # a commit that takes a while lets writers pile up
        batches.append(len(items))
        written.extend(items)

    group: GroupCommit[int] = GroupCommit(write_many)
    returned: list[int] = []

    def writer(n: int) -> None:
        group.add(n)
        assert n in written, "add() returned before its item was written"
        returned.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(written) == sorted(returned) == list(range(64))
    assert len(batches) < 64, "concurrent writers should have shared transactions"


def test_a_failed_batch_raises_in_every_writer_of_it() -> None:
    def write_many(items: Sequence[str]) -> None:
        raise RuntimeError("disk full")

    group: GroupCommit[str] = GroupCommit(write_many)
    with pytest.raises(RuntimeError, match="disk full"):
        group.add("x")
    with pytest.raises(RuntimeError, match="disk full"):
        group.add("y")
