"""Group commit: concurrent writers share one transaction, and each still waits for its commit.

The audit log takes one row per invocation. Committing each row alone makes the commit the
bottleneck of the whole server; here the first writer to arrive becomes the leader, writes every
row queued so far in one transaction, and wakes the others. Nobody returns before the
transaction holding its row is committed, so an answered invocation is always in the log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


class _Entry(Generic[T]):
    __slots__ = ("done", "error", "item")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Batch ``write_many`` calls from concurrent threads; ``add`` returns once committed."""

    def __init__(self, write_many: Callable[[Sequence[T]], None]) -> None:
        self._write_many = write_many
        self._cond = threading.Condition()
        self._pending: list[_Entry[T]] = []
        self._flushing = False

    def add(self, item: T) -> None:
        """Write ``item``; raises what the write raised for the batch it was in."""
        entry = _Entry(item)
        with self._cond:
            self._pending.append(entry)
            while not entry.done:
                if self._flushing:
                    self._cond.wait()
                    continue
                self._flushing = True
                batch, self._pending = self._pending, []
                error: BaseException | None = None
                self._cond.release()
                try:
                    self._write_many([e.item for e in batch])
                except BaseException as exc:  # handed to every writer of the batch
                    error = exc
                finally:
                    self._cond.acquire()
                for done in batch:
                    done.done, done.error = True, error
                self._flushing = False
                self._cond.notify_all()
        if entry.error is not None:
            raise entry.error
