"""An example host app: its own page embeds CRM Link; its backend asks crmlink for link tokens.

    python examples/host-page/server.py --crmlink http://127.0.0.1:8000 \
        --key-id ck_... --secret cs_... --connection acme

then open http://127.0.0.1:8080. In a real app, ``/crm-link-token`` would first check the logged-in
user and use *their* customer id as the connection id.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

PAGE = Path(__file__).with_name("index.html")


def create_app(crmlink_url: str, key_id: str, secret: str, connection_id: str) -> Starlette:
    """The host app: ``/`` its settings page, ``/crm-link-token`` the token for the page."""
    crmlink_url = crmlink_url.rstrip("/")

    async def page(request: Request) -> Response:
        html = PAGE.read_text(encoding="utf-8")
        html = html.replace("{{CRMLINK_URL}}", crmlink_url)
        html = html.replace("{{CONNECTION_ID}}", connection_id)
        return HTMLResponse(html)

    async def link_token(request: Request) -> Response:
        async with httpx.AsyncClient(auth=(key_id, secret), timeout=30) as client:
            answer = await client.post(f"{crmlink_url}/api/v1/crm/{connection_id}/link-token")
        if answer.status_code != 200:
            return JSONResponse({"error": "crmlink refused the link token"}, status_code=502)
        return JSONResponse({"token": answer.json()["token"]})

    return Starlette(
        routes=[Route("/", page), Route("/crm-link-token", link_token, methods=["POST"])]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crmlink", default="http://127.0.0.1:8000")
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--connection", default="acme")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    import uvicorn

    app = create_app(args.crmlink, args.key_id, args.secret, args.connection)
    uvicorn.run(app, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
