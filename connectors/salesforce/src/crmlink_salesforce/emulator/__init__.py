"""A local emulator of the Salesforce REST API, for tests and offline development.

Start it from Python (a pytest fixture, a script)::

    from crmlink_salesforce.emulator import SalesforceEmulator

    emulator = SalesforceEmulator(port=0, token="local-token").start()
    emulator.url                      # http://127.0.0.1:<port>
    emulator.control.rate_limit()     # every API call now answers 403 REQUEST_LIMIT_EXCEEDED
    emulator.records("Opportunity")   # what was written
    emulator.stop()

or from a shell: ``crmlink emulate salesforce --port 8765 --token local-token``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmlink.emulator import ServedEmulator, ThreadedServer

from crmlink_salesforce.emulator.api import OAuthClient, SalesforceApi
from crmlink_salesforce.emulator.app import build_app
from crmlink_salesforce.emulator.control import SalesforceControl
from crmlink_salesforce.emulator.schema import load_schema

__all__ = ["DEFAULT_TOKEN", "OAuthClient", "SalesforceControl", "SalesforceEmulator"]

DEFAULT_TOKEN = "00D5g0000000001!crmlink-emulator-token"  # noqa: S105 - a public test token


class SalesforceEmulator(ServedEmulator):
    """A Salesforce org served on a loopback address: REST API, OAuth, limits and faults."""

    name = "Salesforce"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        org_file: str | Path | None = None,
        daily_limit: int = 15000,
        query_batch_size: int = 2000,
        oauth: OAuthClient | None = None,
    ) -> None:
        self.api = SalesforceApi(
            load_schema(org_file),
            token=token or DEFAULT_TOKEN,
            daily_limit=daily_limit,
            query_batch_size=query_batch_size,
            oauth=oauth,
        )
        self.control = SalesforceControl(self.api)
        self.app = build_app(self)
        self._server = ThreadedServer(self.app, host=host, port=port)

    # -- lifecycle ---------------------------------------------------------------------------
    def describe(self) -> str:
        return f"{super().describe()}  token: {self.token}"

    @property
    def token(self) -> str:
        """The access token valid from the start (until ``expire_credentials``)."""
        return str(self.api.initial_token)

    @property
    def oauth(self) -> OAuthClient:
        """The client id/secret, user and refresh token the OAuth endpoint accepts."""
        return self.api.oauth

    # -- inspection --------------------------------------------------------------------------
    def records(self, object_name: str) -> list[dict[str, Any]]:
        """Copies of the live records of one object, oldest first."""
        obj = self.api.schema.object(object_name)
        if obj is None:
            raise KeyError(object_name)
        with self.api.store.lock:
            return [dict(r) for r in self.api.store.live(obj)]

    @property
    def request_count(self) -> int:
        """HTTP requests received on the Salesforce API and OAuth endpoints."""
        return self.api.request_count

    @property
    def api_usage(self) -> tuple[int, int]:
        """``(used, daily limit)`` as reported in ``Sforce-Limit-Info``."""
        return self.api.api_used, self.api.daily_limit
