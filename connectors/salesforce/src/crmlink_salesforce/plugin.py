"""pluggy hooks: register the Salesforce connector and the Salesforce emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmlink.hookspecs import hookimpl

from crmlink_salesforce.connector import SalesforceConnector
from crmlink_salesforce.emulator import SalesforceEmulator

__all__ = ["register_connectors", "register_emulators"]


@hookimpl
def register_connectors(register: Callable[[type[Any]], None]) -> None:
    """Register :class:`SalesforceConnector` under ``salesforce``."""
    register(SalesforceConnector)


@hookimpl
def register_emulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register the emulator for ``crmlink emulate salesforce``."""
    register("salesforce", SalesforceEmulator)
