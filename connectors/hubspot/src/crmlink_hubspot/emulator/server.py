"""``HubSpotEmulator``: the emulated HubSpot portal as a real HTTP server on 127.0.0.1.

Used by ``crmlink emulate hubspot``, by pytest fixtures and by benchmarks::

    emulator = HubSpotEmulator(port=0, token="pat-na1-test").start()
    client = hubspot.Client.create(access_token="pat-na1-test", host=emulator.url)
    ...
    emulator.records("deals"); emulator.request_count; emulator.control.rate_limit()
    emulator.stop()

Besides the HubSpot API it serves a small control surface under ``/__emulator__/`` for people
testing their own apps over HTTP (see docs/connectors/hubspot.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crmlink.emulator import ServedEmulator, ThreadedServer
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmlink_hubspot.emulator.app import RequestCounter, build_app
from crmlink_hubspot.emulator.control import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    EmulatorControl,
)
from crmlink_hubspot.emulator.ratelimit import RateLimiter
from crmlink_hubspot.emulator.schema import load_portal
from crmlink_hubspot.emulator.store import PortalStore

__all__ = ["DEFAULT_TOKEN", "HubSpotEmulator"]

DEFAULT_TOKEN = "pat-na1-crmlink-emulator"  # noqa: S105 - the fake portal's well-known token


class HubSpotEmulator(ServedEmulator):
    """A local HubSpot portal: CRM objects, properties, associations, events, OAuth."""

    name = "HubSpot"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = DEFAULT_TOKEN,
        portal_file: str | Path | None = None,
        burst_limit: int = 100,
        burst_window: float = 10.0,
        daily_limit: int = 250_000,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        refresh_token: str = DEFAULT_REFRESH_TOKEN,
    ) -> None:
        self.schema = load_portal(portal_file)
        self._portal_file = portal_file
        self.store = PortalStore(self.schema)
        self.control = EmulatorControl(
            token or DEFAULT_TOKEN,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
        )
        self.limiter = RateLimiter(burst_limit, burst_window, daily_limit)
        self.counter = RequestCounter()
        self.app = build_app(
            self.store, self.control, self.limiter, self.counter, self._control_routes()
        )
        self._server = ThreadedServer(self.app, host=host, port=port)

    # -- lifecycle -----------------------------------------------------------------------------
    def describe(self) -> str:
        return f"{super().describe()}  token: {self.token}  portal: {self.portal_id}"

    @property
    def token(self) -> str:
        """The private-app token the portal accepts."""
        return self.control.token

    @property
    def portal_id(self) -> int:
        """The portal's Hub ID (custom event names are ``pe<portalId>_...``)."""
        return self.schema.portal_id

    # -- inspection ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget records, events, faults, counted requests and spent limits."""
        self.store.clear()
        self.control.reset()
        self.control.clear_occurrences()
        self.limiter.reset()
        self.counter.reset()
        self.schema.objects = load_portal(self._portal_file).objects
        self.store.schema = self.schema

    def records(self, object_type: str) -> list[dict[str, Any]]:
        """Stored records of a type as HubSpot returns them (``{"id", "properties", ...}``)."""
        return [r.as_api() for r in self.store.records(object_type)]

    @property
    def request_count(self) -> int:
        """API requests received since start/reset (the control surface is not counted)."""
        return self.counter.count

    @property
    def rate_limited_count(self) -> int:
        """Requests answered 429."""
        return self.counter.rate_limited

    # -- HTTP control surface ------------------------------------------------------------------
    def _control_routes(self) -> list[Route]:
        async def reset(request: Request) -> Response:
            self.reset()
            return Response(status_code=204)

        async def faults(request: Request) -> Response:
            body = json.loads(await request.body() or b"{}")
            if body.get("clear") or body.get("reset"):
                self.control.reset()
            if body.get("rate_limit"):
                self.control.rate_limit()
            unavailable = body.get("unavailable")
            status = int(body.get("status", 502))
            if unavailable is True:
                self.control.unavailable(status)
            elif isinstance(unavailable, int) and unavailable > 0:
                self.control.fail_next(status, unavailable)
            if "daily_limit" in body:
                self.limiter.daily_limit = int(body["daily_limit"])
            if "burst_limit" in body:
                self.limiter.burst_limit = int(body["burst_limit"])
            if body.get("expire_credentials"):
                self.control.expire_credentials()
            if "latency" in body:
                self.control.set_latency(float(body["latency"]))
            if body.get("fail_next"):
                spec = body["fail_next"]
                self.control.fail_next(
                    int(spec["status"]),
                    int(spec.get("count", 1)),
                    str(spec.get("policy", "TEN_SECONDLY_ROLLING")),
                )
            if body.get("revoke_scopes"):
                self.control.revoke_scopes(*body["revoke_scopes"])
            return Response(status_code=204)

        async def records(request: Request) -> Response:
            return _json({"results": self.records(request.path_params["objectType"])})

        async def events(request: Request) -> Response:
            return _json({"results": [o.raw for o in self.control.occurrences()]})

        async def stats(request: Request) -> Response:
            return _json(
                {
                    "requests": self.request_count,
                    "rateLimited": self.rate_limited_count,
                    "portalId": self.portal_id,
                }
            )

        base = "/__emulator__"
        return [
            Route(base + "/reset", reset, methods=["POST"]),
            Route(base + "/faults", faults, methods=["POST"]),
            Route(base + "/records/{objectType}", records, methods=["GET"]),
            Route(base + "/events", events, methods=["GET"]),
            Route(base + "/stats", stats, methods=["GET"]),
            Route(base + "/state", stats, methods=["GET"]),
        ]


def _json(body: Any) -> Response:
    return Response(json.dumps(body), media_type="application/json")
