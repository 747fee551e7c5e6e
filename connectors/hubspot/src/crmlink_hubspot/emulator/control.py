"""Switches on the emulated portal: faults, credentials, latency, and the event outbox.

:class:`EmulatorControl` implements :class:`crmlink.testing.profile.CrmControl` (what the
conformance suite flips) and adds finer switches for connector tests: one-shot failures, latency,
revoked scopes.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EmulatorControl", "Occurrence", "OneShotFault"]

DEFAULT_CLIENT_ID = "crmlink-emulator-client"
DEFAULT_CLIENT_SECRET = "crmlink-emulator-secret"  # noqa: S105 - a fake portal's well-known secret
DEFAULT_REFRESH_TOKEN = "crmlink-emulator-refresh"  # noqa: S105 - idem


@dataclass(frozen=True)
class OneShotFault:
    """Answer the next request with this status (429s carry ``policy``)."""

    status: int
    policy: str = "TEN_SECONDLY_ROLLING"


@dataclass
class Occurrence:
    """One custom event occurrence received on ``/events/v3/send``."""

    event_name: str
    properties: dict[str, Any]
    object_id: str | None = None
    email: str | None = None
    occurred_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class EmulatorControl:
    """Fault switches and credentials of one emulator (thread-safe)."""

    def __init__(
        self,
        token: str,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        refresh_token: str = DEFAULT_REFRESH_TOKEN,
    ) -> None:
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self._lock = threading.Lock()
        self._issued: set[str] = set()
        self._occurrences: list[Occurrence] = []
        self._one_shots: deque[OneShotFault] = deque()
        self.reset()

    # -- CrmControl ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Clear every fault: credentials valid again, no limits forced, no latency."""
        with self._lock:
            self.daily_exhausted = False
            self.unavailable_status: int | None = None
            self.expired = False
            self.latency = 0.0
            self.revoked_scopes: set[str] = set()
            self._one_shots.clear()

    def rate_limit(self) -> None:
        """From now on every call gets HubSpot's 429 ``policyName: DAILY``."""
        self.daily_exhausted = True

    def unavailable(self, status: int = 502) -> None:
        """From now on every call gets a 5xx (502 by default, or 503)."""
        self.unavailable_status = status

    def expire_credentials(self) -> None:
        """Every token issued so far answers 401 EXPIRED_AUTHENTICATION until a refresh."""
        with self._lock:
            self.expired = True
            self._issued.clear()

    def workflow_events(self) -> list[tuple[str, dict[str, Any]]]:
        """Custom event occurrences received, oldest first: ``(eventName, properties)``."""
        with self._lock:
            return [(o.event_name, dict(o.properties)) for o in self._occurrences]

    # -- finer switches ------------------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, policy: str = "TEN_SECONDLY_ROLLING") -> None:
        """Answer the next ``count`` API requests with ``status`` (then behave again)."""
        with self._lock:
            self._one_shots.extend(OneShotFault(status, policy) for _ in range(count))

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds``."""
        self.latency = seconds

    def revoke_scopes(self, *scopes: str) -> None:
        """Requests needing any of these scopes get 403 MISSING_SCOPES."""
        with self._lock:
            self.revoked_scopes.update(scopes)

    def occurrences(self) -> list[Occurrence]:
        """Every custom event occurrence received, in full."""
        with self._lock:
            return list(self._occurrences)

    # -- used by the app -----------------------------------------------------------------------
    def take_one_shot(self) -> OneShotFault | None:
        """The next queued one-shot fault, if any."""
        with self._lock:
            return self._one_shots.popleft() if self._one_shots else None

    def token_state(self, token: str | None) -> str:
        """``valid``, ``expired`` or ``invalid`` for a bearer token."""
        with self._lock:
            if token is not None and token in self._issued:
                return "valid"
            if token == self.token:
                return "expired" if self.expired else "valid"
            if token is not None and token.startswith("emu-oauth-"):
                return "expired"
            return "invalid"

    def is_oauth(self, token: str | None) -> bool:
        """Whether ``token`` was issued by the OAuth endpoint (not the private-app token)."""
        with self._lock:
            return token is not None and token in self._issued

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> str | None:
        """A refresh_token grant: a new access token, or ``None`` if the grant is refused."""
        ok = (
            secrets.compare_digest(client_id, self.client_id)
            and secrets.compare_digest(client_secret, self.client_secret)
            and secrets.compare_digest(refresh_token, self.refresh_token)
        )
        if not ok:
            return None
        token = "emu-oauth-" + secrets.token_hex(16)
        with self._lock:
            self._issued.add(token)
        return token

    def record_occurrence(self, occurrence: Occurrence) -> None:
        """Keep a received custom event occurrence."""
        with self._lock:
            self._occurrences.append(occurrence)

    def clear_occurrences(self) -> None:
        """Forget received occurrences."""
        with self._lock:
            self._occurrences.clear()
