"""Fixtures: a real HubSpot emulator on 127.0.0.1, real hubspot-api-client clients, connectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hubspot
import pytest
from crmlink_hubspot import HubSpotConnector
from crmlink_hubspot.emulator import HubSpotEmulator

DATA = Path(__file__).parent / "data"
PORTAL_FILE = DATA / "conformance_portal.json"


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[HubSpotEmulator]:
    """One emulator for the session (a generous burst limit; tests reset it)."""
    emulator = HubSpotEmulator(portal_file=PORTAL_FILE, burst_limit=100_000).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(emulator_server: HubSpotEmulator) -> Iterator[HubSpotEmulator]:
    """The session emulator, emptied and with every fault cleared."""
    emulator_server.reset()
    yield emulator_server
    emulator_server.reset()


@pytest.fixture
def hs(emulator: HubSpotEmulator) -> Any:
    """A real hubspot-api-client pointed at the emulator."""
    return hubspot.Client.create(access_token=emulator.token, host=emulator.url)


def fast_settings(emulator: HubSpotEmulator, **extra: Any) -> dict[str, Any]:
    """Connection settings with short waits so fault tests run fast."""
    return {
        "access_token": emulator.token,
        "base_url": emulator.url,
        "backoff": 0.01,
        "max_wait": 0.05,
        **extra,
    }


@pytest.fixture
def settings_dict(emulator: HubSpotEmulator) -> dict[str, Any]:
    return fast_settings(emulator)


@pytest.fixture
def connector(settings_dict: dict[str, Any]) -> Iterator[HubSpotConnector]:
    """A private-app connector on the emulator."""
    crm = HubSpotConnector.from_settings(settings_dict)
    assert isinstance(crm, HubSpotConnector)
    yield crm
    crm.close()
