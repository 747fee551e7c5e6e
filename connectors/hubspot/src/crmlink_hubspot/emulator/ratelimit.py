"""HubSpot's rate limits: a rolling burst window and a daily allowance, with their headers.

Private apps get ``X-HubSpot-RateLimit-Max`` requests per rolling
``X-HubSpot-RateLimit-Interval-Milliseconds`` window (100 per 10 s on the smallest plan) and a
daily allowance (``X-HubSpot-RateLimit-Daily``); going over answers 429 with ``policyName``
``TEN_SECONDLY_ROLLING`` or ``DAILY`` (reference/crm-apis.md B6, D).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from crmlink_hubspot.emulator.errors import ApiError

__all__ = ["RateLimiter", "daily_limit_error"]


def daily_limit_error(headers: dict[str, str]) -> ApiError:
    """The 429 HubSpot answers once the daily allowance is spent."""
    return ApiError(
        status=429,
        category="RATE_LIMITS",
        message="You have reached your daily limit.",
        extra={"errorType": "RATE_LIMIT", "policyName": "DAILY"},
        headers=headers,
    )


class RateLimiter:
    """Counts accepted requests in a rolling window and per day (one portal, one app)."""

    def __init__(self, burst_limit: int, burst_window: float, daily_limit: int) -> None:
        self.burst_limit = burst_limit
        self.burst_window = burst_window
        self.daily_limit = daily_limit
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._daily_used = 0

    def reset(self) -> None:
        """Forget every counted request."""
        with self._lock:
            self._recent.clear()
            self._daily_used = 0

    def admit(self, portal_id: int) -> dict[str, str]:
        """Count one request and return the headers to send; raise the 429 when over a limit."""
        with self._lock:
            now = time.monotonic()
            while self._recent and self._recent[0] <= now - self.burst_window:
                self._recent.popleft()
            if self._daily_used >= self.daily_limit:
                raise daily_limit_error(self._headers(0))
            if len(self._recent) >= self.burst_limit:
                raise ApiError(
                    status=429,
                    category="RATE_LIMITS",
                    message="You have reached your ten_secondly_rolling limit.",
                    extra={
                        "errorType": "RATE_LIMIT",
                        "policyName": "TEN_SECONDLY_ROLLING",
                        "groupName": (f"publicapi:private_app-api-calls-ten-secondly:{portal_id}"),
                    },
                    headers=self._headers(0),
                )
            self._recent.append(now)
            self._daily_used += 1
            return self._headers(self.burst_limit - len(self._recent))

    def headers_now(self, *, exhausted_daily: bool = False) -> dict[str, str]:
        """Headers describing the current state without counting a request."""
        with self._lock:
            headers = self._headers(max(0, self.burst_limit - len(self._recent)))
            if exhausted_daily:
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0"
            return headers

    def _headers(self, remaining: int) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self._daily_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.burst_window * 1000)),
            "X-HubSpot-RateLimit-Max": str(self.burst_limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
        }
