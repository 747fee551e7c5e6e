"""Client-side pacing under HubSpot's rolling burst limit.

HubSpot announces its limit on every answer (``X-HubSpot-RateLimit-Max`` requests per
``X-HubSpot-RateLimit-Interval-Milliseconds``). A :class:`Pacer` remembers when this process sent
its recent requests to one portal and, before a request that would go over the announced limit,
waits until the oldest one leaves the window. Batches of thousands of records therefore stay
inside the limit instead of collecting 429s. Pacers are shared per portal credential within the
process, because the limit is the portal's, not the connector instance's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping

__all__ = ["Pacer", "pacer_for"]

_MARGIN = 0.05
"""Seconds added to the window so the server has surely forgotten the oldest request."""


class Pacer:
    """A rolling-window request pacer that learns the limit from the answers' headers."""

    def __init__(self, limit: int = 100, window: float = 10.0, *, fixed: bool = False) -> None:
        self.limit = limit
        self.window = window
        self._fixed = fixed
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.remaining: int | None = None
        self.daily: int | None = None
        self.daily_remaining: int | None = None

    def acquire(self) -> float:
        """Wait, if needed, until one more request fits the window; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                horizon = now - self.window - _MARGIN
                while self._sent and self._sent[0] <= horizon:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return waited
                pause = self._sent[0] - horizon
            time.sleep(pause)
            waited += pause

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the announced limit and usage from an answer's headers."""
        limit = _int(headers.get("X-HubSpot-RateLimit-Max"))
        interval = _int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        with self._lock:
            if not self._fixed and limit:
                self.limit = limit
            if not self._fixed and interval:
                self.window = interval / 1000
            remaining = _int(headers.get("X-HubSpot-RateLimit-Remaining"))
            if remaining is not None:
                self.remaining = remaining
            daily = _int(headers.get("X-HubSpot-RateLimit-Daily"))
            if daily is not None:
                self.daily = daily
            daily_remaining = _int(headers.get("X-HubSpot-RateLimit-Daily-Remaining"))
            if daily_remaining is not None:
                self.daily_remaining = daily_remaining


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


_PACERS: dict[tuple[str, str], Pacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer_for(
    base_url: str, credential: str, limit: int | None = None, window: float | None = None
) -> Pacer:
    """The process-wide pacer of one portal credential (created on first use)."""
    key = (base_url, credential)
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            fixed = limit is not None or window is not None
            pacer = Pacer(limit or 100, window or 10.0, fixed=fixed)
            _PACERS[key] = pacer
        return pacer
