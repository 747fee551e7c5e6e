"""The crmlink plugin: registers the HubSpot connector and the HubSpot emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmlink.hookspecs import hookimpl

from crmlink_hubspot.connector import HubSpotConnector
from crmlink_hubspot.emulator import HubSpotEmulator

__all__ = ["register_connectors", "register_emulators"]


@hookimpl
def register_connectors(register: Callable[[type[Any]], None]) -> None:
    """``hubspot``: :class:`HubSpotConnector`."""
    register(HubSpotConnector)


@hookimpl
def register_emulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """``crmlink emulate hubspot``: :class:`HubSpotEmulator`."""
    register("hubspot", HubSpotEmulator)
