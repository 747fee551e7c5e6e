"""Plugin module for the ``crmlink`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmlink.hookspecs import hookimpl

from crmlink_memory.connector import MemoryConnector


@hookimpl
def register_connectors(register: Callable[[type[Any]], None]) -> None:
    """Register the memory connector."""
    register(MemoryConnector)
