"""Hook specifications: how plugins register connectors and transforms, and observe invocations.

Hooks register, classes behave: a plugin module implements ``register_connectors`` to hand the
host its :class:`~crmlink.connector.Connector` subclasses, and ``register_transforms`` for mapping
transforms. The observer hooks see every invocation (for audit, metrics, tracing); their
exceptions are logged and never break an invocation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from crmlink.connector import Connector
    from crmlink.invocations import InvocationLog
    from crmlink.transforms import Transform

hookspec = pluggy.HookspecMarker("crmlink")
hookimpl = pluggy.HookimplMarker("crmlink")


@hookspec
def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
    """Register connector classes: call ``register(MyConnector)`` once per class."""


@hookspec
def register_transforms(register: Callable[[Transform], None]) -> None:
    """Register mapping transforms: call ``register(transform)`` for each."""


@hookspec
def before_invoke(
    app_id: str, connection_id: str, object: str, event: str, payload: dict[str, Any]
) -> None:
    """Called after authentication and before validation of every invocation."""


@hookspec
def after_invoke(log: InvocationLog) -> None:
    """Called with the finished invocation's record (success or failure)."""


@hookspec
def register_emulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register CRM emulators for ``crmlink emulate NAME``: ``register(name, factory)``.

    ``factory(host=..., port=..., token=...)`` returns an unstarted
    :class:`crmlink.emulator.Emulator`.
    """
