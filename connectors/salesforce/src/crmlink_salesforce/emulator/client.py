"""Pointing the real simple-salesforce at a running emulator (for your own tests).

simple-salesforce builds every URL as ``https://``; the emulator speaks plain HTTP on a loopback
address. :func:`emulator_session` returns a ``requests.Session`` whose adapter sends the
emulator's ``https://`` URLs as ``http://`` (and, for login flows, ``https://login.salesforce.com``
and ``https://test.salesforce.com`` to the emulator), so the client's code path is otherwise
untouched::

    sf = simple_salesforce_client(emulator)      # or build Salesforce(...) with emulator_session()
    sf.Contact.create({"LastName": "Lovelace"})
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce

__all__ = ["emulator_session", "simple_salesforce_client"]

_LOGIN_HOSTS = ("https://login.salesforce.com/", "https://test.salesforce.com/")


class _Redirect(HTTPAdapter):
    """Sends ``https://<prefix>...`` to ``http://<target>...``."""

    def __init__(self, prefix: str, target: str) -> None:
        super().__init__()
        self._prefix = prefix
        self._target = target

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if request.url and request.url.startswith(self._prefix):
            request.url = self._target + request.url[len(self._prefix) :]
        return super().send(request, *args, **kwargs)


def emulator_session(emulator_url: str) -> requests.Session:
    """A session for simple-salesforce talking to the emulator at ``emulator_url``."""
    base = emulator_url.rstrip("/")
    netloc = base.removeprefix("http://")
    session = requests.Session()
    session.trust_env = False
    session.mount(f"https://{netloc}/", _Redirect(f"https://{netloc}/", f"{base}/"))
    for host in _LOGIN_HOSTS:
        session.mount(host, _Redirect(host, f"{base}/"))
    return session


def simple_salesforce_client(
    emulator: Any, token: str | None = None, version: str = "59.0"
) -> Salesforce:
    """A ``simple_salesforce.Salesforce`` on ``emulator`` (a started ``SalesforceEmulator``)."""
    url: str = emulator.url
    return Salesforce(
        instance_url="https://" + url.removeprefix("http://"),
        session_id=token or emulator.token,
        session=emulator_session(url),
        version=version,
    )
