"""pytest fixtures for testing your own app against the HubSpot emulator.

Enable them in a ``conftest.py``::

    pytest_plugins = ["crmlink_hubspot.pytest_fixtures"]

    def test_sync(hubspot_emulator):
        client = hubspot.Client.create(access_token=hubspot_emulator.token,
                                       host=hubspot_emulator.url)
        ...

``hubspot_emulator`` is one emulator per test session, emptied (records, faults, counters) before
every test. Set ``CRMLINK_HUBSPOT_PORTAL_FILE`` to load your own portal file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from crmlink_hubspot.emulator import HubSpotEmulator

__all__ = ["hubspot_emulator", "hubspot_emulator_session"]


@pytest.fixture(scope="session")
def hubspot_emulator_session() -> Iterator[HubSpotEmulator]:
    """The session's HubSpot emulator, serving on a free port of 127.0.0.1."""
    portal_file = os.environ.get("CRMLINK_HUBSPOT_PORTAL_FILE") or None
    emulator = HubSpotEmulator(portal_file=portal_file).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def hubspot_emulator(hubspot_emulator_session: HubSpotEmulator) -> HubSpotEmulator:
    """The session's emulator, emptied and with every fault cleared."""
    hubspot_emulator_session.reset()
    return hubspot_emulator_session
