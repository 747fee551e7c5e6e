"""The HTTP layer under hubspot-api-client: one pooled, counted, paced urllib3 PoolManager.

hubspot-api-client builds a generated ``ApiClient`` (with its own urllib3 pool) per sub-API, and
lets the caller supply an ``api_factory`` that does it instead. Ours builds each sub-API once,
with every ``ApiClient``'s REST client sending through one shared :class:`CountingPoolManager`:
a ``urllib3.PoolManager`` subclass that, per request, waits on the portal's :class:`Pacer`,
calls :func:`crmlink.connector.count_crm_call` and lets the pacer read the rate-limit headers.
Nothing in the library is patched. urllib3 retries only failed connection attempts (nothing
was sent); answers (429, 5xx) are retried by the connector itself, because urllib3's ``Retry``
does not retry POST/PATCH on 429 and raises ``MaxRetryError`` instead of ``ApiException``
(crm-apis.md B7).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import urllib3
from crmlink.connector import count_crm_call

from crmlink_hubspot.pacing import Pacer

__all__ = ["ApiFactory", "CountingPoolManager"]


class CountingPoolManager(urllib3.PoolManager):
    """A PoolManager that paces, counts and observes every request it sends."""

    def __init__(self, pacer: Pacer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pacer = pacer

    def urlopen(  # type: ignore[override]
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> urllib3.BaseHTTPResponse:
        """Send one request: wait for room in the window, count it, learn from the answer."""
        self.pacer.acquire()
        count_crm_call()
        response = super().urlopen(method, url, redirect=redirect, **kw)
        self.pacer.observe(response.headers)  # case-insensitive HTTPHeaderDict
        return response


class ApiFactory:
    """An ``api_factory`` for ``hubspot.Client``: sub-APIs built once, one shared pool.

    ``token`` returns the current access token; it is set on the sub-API each time the client
    hands it out, so a renewed OAuth token is used from the next call on.
    """

    def __init__(self, pool: CountingPoolManager, token: Callable[[], str]) -> None:
        self._pool = pool
        self._token = token
        self._apis: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, package: Any, api_name: str, config: dict[str, Any]) -> Any:
        key = (package.__name__, api_name)
        with self._lock:
            api = self._apis.get(key)
            if api is None:
                configuration = package.Configuration()
                configuration.host = config["host"]
                api_client = package.ApiClient(configuration=configuration)
                api_client.user_agent = "crmlink-hubspot (hubspot-api-client-python)"
                api_client.rest_client.pool_manager = self._pool
                api = getattr(package, api_name)(api_client=api_client)
                self._apis[key] = api
            api.api_client.configuration.access_token = self._token()
            return api
