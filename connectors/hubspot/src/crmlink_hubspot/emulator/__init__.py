"""A local emulator of HubSpot's CRM REST API, for tests and offline development."""

from crmlink_hubspot.emulator.control import EmulatorControl
from crmlink_hubspot.emulator.server import DEFAULT_TOKEN, HubSpotEmulator

__all__ = ["DEFAULT_TOKEN", "EmulatorControl", "HubSpotEmulator"]
