"""Browser fixtures: headless Chromium (Debian's), crmlink live, the Salesforce emulator and the
example host page on another origin.

Screenshots go to ``artifacts/`` at the repository root, named by test and viewport.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from crmlink.emulator import ThreadedServer
from crmlink.testing import DEMO_OBJECTS

from tests.server.conftest import App, LiveServer, app, other_app, server  # noqa: F401

try:
    from playwright import sync_api as playwright_sync
except ImportError:  # the browser session installs it; other sessions skip this directory
    playwright_sync = None
    collect_ignore_glob = ["test_*.py"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
MODAL = "iframe[title='CRM Link: connect and map your CRM']:visible"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if playwright_sync is None:
        pytest.skip("Playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def salesforce() -> Iterator[Any]:
    """The Salesforce emulator, shared by the browser tests (emptied per test)."""
    emulator_module = pytest.importorskip("crmlink_salesforce.emulator")
    emulator = emulator_module.SalesforceEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator(salesforce: Any) -> Any:
    salesforce.control.reset_all()
    return salesforce


def salesforce_settings(emulator: Any) -> dict[str, Any]:
    return {
        "instance_url": emulator.url,
        "access_token": emulator.token,
        "max_retries": 1,
        "retry_backoff": 0.001,
        "timeout": 10.0,
    }


def link_salesforce(owner: App, connection_id: str, emulator: Any) -> None:
    """A Salesforce connection on the emulator with the demo definition and no mapping."""
    with owner.client() as client:
        client.link(connection_id, "salesforce", salesforce_settings(emulator), DEMO_OBJECTS)


def link_token(owner: App, connection_id: str, **options: Any) -> str:
    with owner.http() as http:
        answer = http.post(f"/api/v1/crm/{connection_id}/link-token", json=options or None)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def _load_example() -> Any:
    path = ROOT / "examples" / "host-page" / "server.py"
    spec = importlib.util.spec_from_file_location("crmlink_example_host_page", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class HostPage:
    """The example host app, served on its own origin, embedding CRM Link for one connection."""

    url: str
    connection_id: str


@pytest.fixture
def host_page(server: LiveServer, app: App) -> Iterator[HostPage]:  # noqa: F811
    example = _load_example()
    connection_id = "acme"
    host = example.create_app(server.url, app.key_id, app.secret, connection_id)
    # "localhost" vs crmlink's "127.0.0.1": another origin, as in production.
    running = ThreadedServer(host).start()
    try:
        yield HostPage(f"http://localhost:{running.port}", connection_id)
    finally:
        running.stop()


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Any:
    """``shoot(page, "step")`` saves artifacts/<test>--<viewport>--<step>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(page: Any, step: str, *, full_page: bool = False) -> Path:
        size = page.viewport_size or {}
        path = ARTIFACTS / f"{name}--{size.get('width')}x{size.get('height')}--{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
