"""A live crmlink server (uvicorn on 127.0.0.1) over a real database, and apps with keys."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from crmlink import Client, hookimpl
from crmlink.emulator import ThreadedServer
from crmlink.plugins import PluginHost
from crmlink.secrets import generate_key
from crmlink.server import ServerSettings, create_app
from crmlink.server.demo import DEMO_MAPPING
from crmlink.store.sql import SqlStore
from crmlink.testing import DEMO_OBJECTS
from crmlink_memory import MemoryConnector, MemorySettings
from pydantic import SecretStr

MAX_BODY = 64_000


class VaultSettings(MemorySettings):
    """Memory CRM settings with a secret, to see secrets masked and encrypted."""

    api_token: SecretStr


class VaultConnector(MemoryConnector):
    name = "vault"
    settings_model = VaultSettings


class _TestConnectors:
    @hookimpl
    def register_connectors(self, register: Callable[[type[Any]], None]) -> None:
        register(VaultConnector)


@dataclass
class App:
    """An app on the live server with one API key."""

    id: str
    key_id: str
    secret: str
    base_url: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.key_id, self.secret)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=self.auth, timeout=30)

    def client(self) -> Client:
        return Client(self.base_url, self.key_id, self.secret)

    def link_demo(self, connection_id: str, instance: str | None = None) -> None:
        settings = {"instance": instance} if instance else {}
        with self.client() as client:
            client.link(connection_id, "memory", settings, DEMO_OBJECTS)
            client.set_mapping(connection_id, DEMO_MAPPING)


@dataclass
class LiveServer:
    url: str
    store: SqlStore
    database_url: str
    secret_key: str

    def new_app(self) -> App:
        app_id = self.store.ensure_app(f"app-{uuid.uuid4().hex[:8]}")
        key_id, secret = self.store.create_api_key(app_id)
        return App(app_id, key_id, secret, self.url)


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    secret_key = generate_key()
    settings = ServerSettings(
        database_url=database_url, secret_key=secret_key, max_body_bytes=MAX_BODY
    )
    store = SqlStore(database_url, secret_key=secret_key)
    store.upgrade()
    plugins = PluginHost(plugins=[_TestConnectors()])
    running = ThreadedServer(create_app(settings, store=store, plugins=plugins)).start()
    try:
        yield LiveServer(running.url, store, database_url, secret_key)
    finally:
        running.stop()
        store.close()


@pytest.fixture
def app(server: LiveServer) -> App:
    return server.new_app()


@pytest.fixture
def other_app(server: LiveServer) -> App:
    return server.new_app()


def envelope(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    """Assert an error answer's status and type; return its ``error`` body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["type"] == type_, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def paths(error: Mapping[str, Any]) -> Sequence[str]:
    return [item["path"] for item in error.get("errors", [])]
