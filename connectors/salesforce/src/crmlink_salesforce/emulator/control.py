"""Test switches on an emulated org: the conformance suite's ``CrmControl`` and more."""

from __future__ import annotations

from typing import Any

from crmlink_salesforce.emulator.api import SalesforceApi

__all__ = ["SalesforceControl"]


class SalesforceControl:
    """Flip faults on the emulator and read its platform-event outbox.

    Implements :class:`crmlink.testing.profile.CrmControl`; ``reset`` clears faults only
    (records stay), ``reset_all`` also empties the org.
    """

    def __init__(self, api: SalesforceApi) -> None:
        self._api = api

    def reset(self) -> None:
        """Clear every fault: no quota exhaustion, no 5xx, no latency, initial token valid.

        Records and the API usage count stay (``reset_all`` empties the org).
        """
        api = self._api
        with api.lock:
            api.faults.reset()
            api.restore_initial_token()

    def reset_all(self) -> None:
        """Clear faults, records, published events, usage and tokens issued."""
        self._api.reset()

    def rate_limit(self) -> None:
        """Quota exhausted: every API call answers 403 ``REQUEST_LIMIT_EXCEEDED`` (and
        ``Sforce-Limit-Info`` shows the whole allocation used) until ``reset``."""
        self._api.faults.rate_limited = True

    def unavailable(self, times: int | None = None, status: int = 503) -> None:
        """Answer ``status`` (503) to the next ``times`` API calls (``None``: to all)."""
        with self._api.lock:
            self._api.faults.unavailable = -1 if times is None else times
            self._api.faults.unavailable_status = status

    def expire_credentials(self) -> None:
        """Every token issued so far answers 401 ``INVALID_SESSION_ID``; a refresh_token grant
        issues a new, working one."""
        self._api.expire_tokens()

    def latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds``."""
        self._api.faults.latency = seconds

    def set_daily_limit(self, limit: int, used: int | None = None) -> None:
        """Change the daily API request allocation (and optionally the count used so far)."""
        with self._api.lock:
            self._api.daily_limit = limit
            if used is not None:
                self._api.api_used = used

    def workflow_events(self) -> list[tuple[str, dict[str, Any]]]:
        """Platform events published so far, oldest first, with their non-empty fields."""
        with self._api.store.lock:
            return [
                (name, {k: v for k, v in values.items() if v is not None})
                for name, values in self._api.store.events
            ]

    def apply(self, spec: dict[str, Any]) -> None:
        """Switch faults from a JSON object (the ``/__emulator__/faults`` control endpoint)."""
        if spec.get("reset"):
            self.reset()
        if spec.get("rate_limit"):
            self.rate_limit()
        unavailable = spec.get("unavailable")
        if unavailable is True:
            self.unavailable()
        elif isinstance(unavailable, int) and not isinstance(unavailable, bool):
            self.unavailable(unavailable)
        if spec.get("expire_credentials"):
            self.expire_credentials()
        if isinstance(spec.get("latency"), int | float):
            self.latency(float(spec["latency"]))
        if isinstance(spec.get("daily_limit"), int):
            self.set_daily_limit(spec["daily_limit"])

    def state(self) -> dict[str, Any]:
        """Current faults and counters."""
        api = self._api
        return {
            "rate_limited": api.faults.rate_limited,
            "unavailable": api.faults.unavailable,
            "latency": api.faults.latency,
            "api_usage": {"used": api.api_used, "limit": api.daily_limit},
            "request_count": api.request_count,
            "published_events": len(api.store.events),
        }
