"""The HTTP server: the seed's API and the admin API over the Engine, with durable storage."""

from crmlink.server.app import create_app
from crmlink.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
