"""Group commit: concurrent writers share one transaction, and each still waits for its commit.

The audit log takes one row per invocation. Committing each row alone makes the commit the
bottleneck of the whole server. Here writers queue on one lock: the first to get it takes every
row queued so far, writes them in one transaction and lets go; each writer after it finds its row
already written and returns at once. Nobody returns before the transaction holding its row is
committed, so an answered invocation is always in the log, and each writer is woken exactly once
(a condition variable's ``notify_all`` would wake every waiter on every commit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


class _Batch(Generic[T]):
    __slots__ = ("error", "items", "written")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.written = False
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Batch ``write_many`` calls from concurrent threads; ``add`` returns once committed."""

    def __init__(self, write_many: Callable[[Sequence[T]], None]) -> None:
        self._write_many = write_many
        self._queue_lock = threading.Lock()  # guards _pending
        self._writer = threading.Lock()  # held while a batch is written
        self._pending: _Batch[T] = _Batch()

    def add(self, item: T) -> None:
        """Write ``item``; raises what the write raised for the batch it was in."""
        with self._queue_lock:
            batch = self._pending
            batch.items.append(item)
        with self._writer:
            # Batches are swapped only by the holder of _writer, who writes the one it took
            # before letting go: a batch not yet written is still the pending one.
            if not batch.written:
                with self._queue_lock:
                    self._pending = _Batch()
                try:
                    self._write_many(batch.items)
                except BaseException as exc:  # handed to every writer of the batch
                    batch.error = exc
                finally:
                    batch.written = True
        if batch.error is not None:
            raise batch.error
