"""``crmlink.Client`` and ``crmlink.AsyncClient``: the HTTP API with the Engine's verbs.

``Client.invoke`` has the signature of :meth:`crmlink.Engine.invoke`, so code can switch
between in-process and remote use. Errors raise the same exception classes as the engine
(``crmlink.PayloadInvalid``, ``crmlink.NotFound``, ...), carrying the server's envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from crmlink.errors import CrmlinkError
from crmlink.records import InvocationResult

__all__ = ["AsyncClient", "Client"]

T = TypeVar("T")


@dataclass(frozen=True)
class _Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _seg(value: str) -> str:
    return quote(value, safe="")


def _same(body: Any) -> Any:
    return body


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        exc = CrmlinkError.from_envelope(body)
    else:
        exc = CrmlinkError(f"HTTP {response.status_code} from {response.request.url.path}")
    retry_after = response.headers.get("Retry-After")
    if retry_after and retry_after.isdigit():
        exc.retry_after = float(retry_after)
    exc.http_status = response.status_code  # type: ignore[attr-defined]
    raise exc


class _Calls:
    """The API's requests, described once for both clients."""

    @staticmethod
    def invoke(
        connection_id: str,
        object: str,
        event: str,
        payload: Mapping[str, Any] | None,
        record_id: str | None,
        idempotency_key: str | None,
    ) -> _Call[InvocationResult]:
        base = f"/api/v1/crm/{_seg(connection_id)}/objects/{_seg(object)}"
        path = (
            f"{base}/events/{_seg(event)}"
            if record_id is None
            else f"{base}/{_seg(record_id)}/events/{_seg(event)}"
        )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
        return _Call(
            "POST",
            path,
            InvocationResult.from_dict,
            json={"payload": dict(payload or {})},
            headers=headers,
        )

    @staticmethod
    def link(
        connection_id: str,
        connector: str,
        settings: Mapping[str, Any] | None,
        objects: Mapping[str, Any] | None,
    ) -> _Call[dict[str, Any]]:
        body = {
            "connector": connector,
            "settings": dict(settings or {}),
            "objects": dict(objects or {}),
        }
        return _Call("PUT", f"/api/v1/crm/{_seg(connection_id)}", _same, json=body)

    @staticmethod
    def get(path: str, **params: Any) -> _Call[Any]:
        clean = {k: v for k, v in params.items() if v is not None}
        return _Call("GET", path, _same, params=clean)

    @staticmethod
    def unlink(connection_id: str) -> _Call[None]:
        return _Call("DELETE", f"/api/v1/crm/{_seg(connection_id)}", lambda _: None)

    @staticmethod
    def set_mapping(connection_id: str, mapping: Mapping[str, Any]) -> _Call[dict[str, Any]]:
        return _Call("PUT", f"/api/v1/crm/{_seg(connection_id)}/mapping", _same, json=dict(mapping))

    @staticmethod
    def link_token(connection_id: str) -> _Call[dict[str, Any]]:
        return _Call("POST", f"/api/v1/crm/{_seg(connection_id)}/link-token", _same, json={})


def _conn(connection_id: str, tail: str = "") -> str:
    return f"/api/v1/crm/{_seg(connection_id)}{tail}"


class Client:
    """Synchronous client. ``Client(base_url, "KEY_ID", "SECRET")``; use as a context manager."""

    def __init__(
        self,
        base_url: str,
        key_id: str,
        secret: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, auth=(key_id, secret), timeout=timeout, transport=transport
        )

    def _send(self, call: _Call[T]) -> T:
        response = self._http.request(
            call.method, call.path, json=call.json, params=call.params, headers=call.headers
        )
        _raise_for(response)
        return call.parse(response.json() if response.content else None)

    def invoke(
        self,
        connection_id: str,
        object: str,
        event: str,
        payload: Mapping[str, Any] | None = None,
        record_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> InvocationResult:
        """Invoke an event; the same signature and answer as :meth:`crmlink.Engine.invoke`."""
        return self._send(
            _Calls.invoke(connection_id, object, event, payload, record_id, idempotency_key)
        )

    def link(
        self,
        connection_id: str,
        connector: str = "memory",
        settings: Mapping[str, Any] | None = None,
        objects: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create or update a connection and its definition."""
        return self._send(_Calls.link(connection_id, connector, settings, objects))

    def connection(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send(_Calls.get(_conn(connection_id)))
        return result

    def connections(self, *, limit: int = 50, after: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._send(_Calls.get("/api/v1/crm", limit=limit, after=after))
        return result

    def unlink(self, connection_id: str) -> None:
        self._send(_Calls.unlink(connection_id))

    def catalog(self, connection_id: str) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = self._send(_Calls.get(_conn(connection_id, "/catalog")))[
            "objects"
        ]
        return objects

    def catalog_object(self, connection_id: str, crm_object: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send(
            _Calls.get(_conn(connection_id, f"/catalog/{_seg(crm_object)}"))
        )
        return result

    def mapping(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send(_Calls.get(_conn(connection_id, "/mapping")))
        return result

    def set_mapping(self, connection_id: str, mapping: Mapping[str, Any]) -> dict[str, Any]:
        return self._send(_Calls.set_mapping(connection_id, mapping))

    def invocations(
        self,
        connection_id: str,
        *,
        event: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._send(
            _Calls.get(
                _conn(connection_id, "/invocations"),
                event=event,
                status=status,
                limit=limit,
                before=before,
            )
        )
        return result

    def health(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send(_Calls.get(_conn(connection_id, "/health")))
        return result

    def link_token(self, connection_id: str) -> dict[str, Any]:
        """A short-lived token for the end user's mapping page of one connection."""
        return self._send(_Calls.link_token(connection_id))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """Asynchronous client with the same methods as :class:`Client`, awaitable."""

    def __init__(
        self,
        base_url: str,
        key_id: str,
        secret: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, auth=(key_id, secret), timeout=timeout, transport=transport
        )

    async def _send(self, call: _Call[T]) -> T:
        response = await self._http.request(
            call.method, call.path, json=call.json, params=call.params, headers=call.headers
        )
        _raise_for(response)
        return call.parse(response.json() if response.content else None)

    async def invoke(
        self,
        connection_id: str,
        object: str,
        event: str,
        payload: Mapping[str, Any] | None = None,
        record_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> InvocationResult:
        """Invoke an event; the same signature and answer as :meth:`crmlink.Engine.invoke`."""
        return await self._send(
            _Calls.invoke(connection_id, object, event, payload, record_id, idempotency_key)
        )

    async def link(
        self,
        connection_id: str,
        connector: str = "memory",
        settings: Mapping[str, Any] | None = None,
        objects: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self._send(_Calls.link(connection_id, connector, settings, objects))

    async def connection(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(_Calls.get(_conn(connection_id)))
        return result

    async def connections(self, *, limit: int = 50, after: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(
            _Calls.get("/api/v1/crm", limit=limit, after=after)
        )
        return result

    async def unlink(self, connection_id: str) -> None:
        await self._send(_Calls.unlink(connection_id))

    async def catalog(self, connection_id: str) -> list[dict[str, Any]]:
        body = await self._send(_Calls.get(_conn(connection_id, "/catalog")))
        objects: list[dict[str, Any]] = body["objects"]
        return objects

    async def catalog_object(self, connection_id: str, crm_object: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(
            _Calls.get(_conn(connection_id, f"/catalog/{_seg(crm_object)}"))
        )
        return result

    async def mapping(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(_Calls.get(_conn(connection_id, "/mapping")))
        return result

    async def set_mapping(self, connection_id: str, mapping: Mapping[str, Any]) -> dict[str, Any]:
        return await self._send(_Calls.set_mapping(connection_id, mapping))

    async def invocations(
        self,
        connection_id: str,
        *,
        event: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(
            _Calls.get(
                _conn(connection_id, "/invocations"),
                event=event,
                status=status,
                limit=limit,
                before=before,
            )
        )
        return result

    async def health(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(_Calls.get(_conn(connection_id, "/health")))
        return result

    async def link_token(self, connection_id: str) -> dict[str, Any]:
        return await self._send(_Calls.link_token(connection_id))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
