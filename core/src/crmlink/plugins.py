"""The plugin host: owns the pluggy manager, loads entry points, keeps the registries.

Plugins are modules published under the entry-point group ``crmlink``. A plugin that fails to
import is skipped with a warning naming it (the rest still load); ``CRMLINK_DISABLE_PLUGINS``
(comma-separated entry-point or distribution names) keeps named plugins out.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy

from crmlink import hookspecs, transforms
from crmlink.connector import Connector
from crmlink.errors import NotFound
from crmlink.transforms import Transform

__all__ = ["ConnectorInfo", "PluginHost", "default_host"]

log = logging.getLogger("crmlink.plugins")

ENTRY_POINT_GROUP = "crmlink"


@dataclass(frozen=True)
class ConnectorInfo:
    """A registered connector and where it came from."""

    name: str
    cls: type[Connector[Any]]
    distribution: str | None
    version: str | None


class PluginHost:
    """Loads plugins and answers: which connectors, transforms and emulators exist."""

    def __init__(self, *, load_entry_points: bool = True, plugins: Iterable[object] = ()) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(transforms, name="crmlink.transforms")
        self._origins: dict[object, tuple[str | None, str | None]] = {}
        if load_entry_points:
            self._load_entry_points()
        for plugin in plugins:
            self.register(plugin)
        self._connectors: dict[str, ConnectorInfo] | None = None
        self._transforms: dict[str, Transform] | None = None
        self._emulators: dict[str, Any] | None = None

    def register(self, plugin: object, *, name: str | None = None) -> None:
        """Register a plugin object (a module or an instance with hookimpls)."""
        self.pm.register(plugin, name=name)
        self._connectors = self._transforms = self._emulators = None

    def _load_entry_points(self) -> None:
        disabled = {
            n.strip() for n in os.environ.get("CRMLINK_DISABLE_PLUGINS", "").split(",") if n.strip()
        }
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            if ep.name in disabled or (dist is not None and dist in disabled):
                log.info("crmlink plugin %r disabled by CRMLINK_DISABLE_PLUGINS", ep.name)
                continue
            if self.pm.has_plugin(ep.name):
                continue
            try:
                plugin: ModuleType = ep.load()
            except Exception as exc:  # a broken plugin must not take the host down
                message = (
                    f"crmlink plugin {ep.name!r} ({dist or 'unknown distribution'}) failed to "
                    f"load and was skipped: {type(exc).__name__}: {exc}"
                )
                warnings.warn(message, RuntimeWarning, stacklevel=2)
                continue
            self.pm.register(plugin, name=ep.name)
            self._origins[plugin] = (dist, version)

    # -- registries ---------------------------------------------------------------------------
    def connectors(self) -> dict[str, ConnectorInfo]:
        """Every registered connector by name."""
        if self._connectors is None:
            found: dict[str, ConnectorInfo] = {}
            for impl in self.pm.hook.register_connectors.get_hookimpls():
                dist, version = self._origins.get(impl.plugin, (None, None))

                def register(cls: type[Connector[Any]], _d: Any = dist, _v: Any = version) -> None:
                    found[cls.name] = ConnectorInfo(cls.name, cls, _d, _v)

                impl.function(register=register)
            self._connectors = found
        return self._connectors

    def connector(self, name: str) -> type[Connector[Any]]:
        """The connector class registered under ``name``; ``NotFound`` otherwise."""
        info = self.connectors().get(name)
        if info is None:
            known = ", ".join(sorted(self.connectors())) or "none"
            raise NotFound(f"no connector named {name!r} is installed (installed: {known})")
        return info.cls

    def transforms(self) -> dict[str, Transform]:
        """Every registered mapping transform by name."""
        if self._transforms is None:
            found: dict[str, Transform] = {}
            self.pm.hook.register_transforms(register=lambda t: found.__setitem__(t.name, t))
            self._transforms = found
        return self._transforms

    def emulators(self) -> dict[str, Any]:
        """Every registered emulator factory by name."""
        if self._emulators is None:
            found: dict[str, Any] = {}
            self.pm.hook.register_emulators(
                register=lambda name, factory: found.__setitem__(name, factory)
            )
            self._emulators = found
        return self._emulators

    @property
    def hook(self) -> Any:
        """The pluggy hook relay, for the observer hooks."""
        return self.pm.hook


_default: PluginHost | None = None


def default_host() -> PluginHost:
    """The process-wide host loaded from installed entry points."""
    global _default
    if _default is None:
        _default = PluginHost()
    return _default
