"""Group commit: concurrent writers share one transaction, and each still waits for its commit.

The audit log takes one row per invocation. Committing each row alone makes the commit the
bottleneck of the whole server. Here rows queue in a batch; the first writer of each batch is its
leader: it waits for the previous batch's leader to finish, takes the batch (rows that arrived
meanwhile are in it), writes it in one transaction and wakes the batch's other writers at once.
Nobody returns before the transaction holding its row is committed, so an answered invocation is
always in the log; each writer is woken once, and only leaders queue on the writer lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


class _Batch(Generic[T]):
    __slots__ = ("done", "error", "items")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Batch ``write_many`` calls from concurrent threads; ``add`` returns once committed."""

    def __init__(self, write_many: Callable[[Sequence[T]], None]) -> None:
        self._write_many = write_many
        self._queue_lock = threading.Lock()  # guards _pending
        self._writer = threading.Lock()  # held by the leader writing a batch
        self._pending: _Batch[T] = _Batch()

    def add(self, item: T) -> None:
        """Write ``item``; raises what the write raised for the batch it was in."""
        with self._queue_lock:
            batch = self._pending
            batch.items.append(item)
            leader = len(batch.items) == 1
        if leader:
            with self._writer:
                # Only a batch's leader swaps it out, so until now it has stayed the pending
                # one and gathered every row that arrived while the previous batch was written.
                with self._queue_lock:
                    self._pending = _Batch()
                try:
                    self._write_many(batch.items)
                except BaseException as exc:  # handed to every writer of the batch
                    batch.error = exc
                finally:
                    batch.done.set()
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
