"""The HTTP session the connector hands simple-salesforce.

Against Salesforce it is a plain ``requests.Session`` speaking https. For an ``http://``
instance on a loopback address (the local emulator) an adapter rewrites simple-salesforce's
hard-coded ``https://`` back to ``http://`` for that host only. Every request sent counts as a
CRM call (:func:`crmlink.connector.count_crm_call`), and a response hook records
``Sforce-Limit-Info``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from crmlink.connector import count_crm_call
from requests.adapters import HTTPAdapter

__all__ = ["ApiUsage", "build_session", "client_instance_url", "parse_limit_info"]

_LIMIT_INFO = re.compile(r"(?:^|[^-])api-usage=(\d+)/(\d+)")
ApiUsage = tuple[int, int]


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """``api-usage=18/5000`` → ``(18, 5000)``; ``None`` if absent."""
    if not header:
        return None
    match = _LIMIT_INFO.search(header)
    return (int(match[1]), int(match[2])) if match else None


class _TimeoutAdapter(HTTPAdapter):
    """Applies a default timeout to every request that has none."""

    def __init__(self, timeout: float, *, to_http: bool = False) -> None:
        super().__init__()
        self._timeout = timeout
        self._to_http = to_http

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        # requests.Session.send passes stream/timeout/verify/cert/proxies as keywords
        count_crm_call()  # every attempt, answered or not
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        if self._to_http and request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


def client_instance_url(instance_url: str) -> str:
    """The URL given to simple-salesforce: always https (it rebuilds every URL as https)."""
    parts = urlsplit(instance_url)
    return f"https://{parts.netloc}"


def build_session(
    instance_url: str, timeout: float, on_usage: Callable[[ApiUsage], None]
) -> requests.Session:
    """A session for one connection (see the module docstring)."""
    session = requests.Session()
    session.mount("https://", _TimeoutAdapter(timeout))
    session.mount("http://", _TimeoutAdapter(timeout))
    parts = urlsplit(instance_url)
    if parts.scheme == "http":
        session.mount(f"https://{parts.netloc}/", _TimeoutAdapter(timeout, to_http=True))
        session.trust_env = False  # no proxy between us and a loopback emulator

    def _on_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            on_usage(usage)

    session.hooks["response"].append(_on_response)
    return session
