"""The ASGI app serving :class:`~crmlink_salesforce.emulator.api.SalesforceApi` over HTTP.

Everything below ``/services/`` is the Salesforce API; ``/__emulator__/`` is a small control
surface for people testing their own apps against the emulator (reset, faults, stored records,
published platform events, usage counters). It has no authentication: the emulator only listens
on a loopback address.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from crmlink_salesforce.emulator import SalesforceEmulator

__all__ = ["build_app"]

_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]


def _json_response(status: int, body: Any, headers: dict[str, str]) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return Response(
        json.dumps(body),
        status_code=status,
        headers=headers,
        media_type="application/json;charset=UTF-8",
    )


def build_app(emulator: SalesforceEmulator) -> Starlette:
    """The Starlette app of one emulator instance."""
    api = emulator.api

    async def salesforce(request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:  # the client gave up (e.g. its timeout): nobody to answer
            return Response(status_code=499)
        latency = api.faults.latency
        if latency > 0:
            await asyncio.sleep(latency)
        base_url = f"{request.url.scheme}://{request.url.netloc}"
        reply = api.handle(
            request.method,
            request.url.path,
            list(request.query_params.multi_items()),
            {k.lower(): v for k, v in request.headers.items()},
            body,
            base_url,
        )
        if reply.text is not None:
            return Response(
                reply.text,
                status_code=reply.status,
                headers=reply.headers,
                media_type=reply.content_type,
            )
        return _json_response(reply.status, reply.body, reply.headers)

    async def control(request: Request) -> Response:
        action = request.path_params["action"].strip("/")
        if request.method == "POST" and action == "reset":
            emulator.control.reset_all()
            return JSONResponse({"ok": True})
        if request.method == "POST" and action == "faults":
            try:
                spec = json.loads(await request.body() or b"{}")
            except ValueError:
                return JSONResponse({"error": "body must be JSON"}, status_code=400)
            if not isinstance(spec, dict):
                return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
            emulator.control.apply(spec)
            return JSONResponse(emulator.control.state())
        if request.method == "GET" and action == "state":
            return JSONResponse(emulator.control.state())
        if request.method == "GET" and action == "events":
            events = emulator.control.workflow_events()
            return JSONResponse([{"event": name, "values": values} for name, values in events])
        if request.method == "GET" and action.startswith("records/"):
            name = action.removeprefix("records/")
            if api.schema.object(name) is None:
                return JSONResponse({"error": f"unknown object {name}"}, status_code=404)
            return JSONResponse(emulator.records(name))
        return JSONResponse({"error": "unknown control action"}, status_code=404)

    routes = [
        Route("/__emulator__/{action:path}", control, methods=["GET", "POST"]),
        Route("/{path:path}", salesforce, methods=_METHODS),
    ]
    return Starlette(routes=routes)
