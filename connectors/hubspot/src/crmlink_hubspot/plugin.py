"""The crmlink plugin: registers the HubSpot connector and the HubSpot emulator."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from crmlink.hookspecs import hookimpl

from crmlink_hubspot.connector import HubSpotConnector
from crmlink_hubspot.emulator import HubSpotEmulator

__all__ = ["emulator_factory", "register_connectors", "register_emulators"]


@hookimpl
def register_connectors(register: Callable[[type[Any]], None]) -> None:
    """``hubspot``: :class:`HubSpotConnector`."""
    register(HubSpotConnector)


def emulator_factory(
    host: str = "127.0.0.1", port: int = 0, token: str | None = None
) -> HubSpotEmulator:
    """A :class:`HubSpotEmulator`; ``CRMLINK_HUBSPOT_PORTAL_FILE`` names a portal JSON file."""
    portal_file = os.environ.get("CRMLINK_HUBSPOT_PORTAL_FILE") or None
    return HubSpotEmulator(host=host, port=port, token=token, portal_file=portal_file)


@hookimpl
def register_emulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """``crmlink emulate hubspot``: a :class:`HubSpotEmulator`."""
    register("hubspot", emulator_factory)
