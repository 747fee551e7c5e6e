"""The Connector base class: the behaviour every CRM plugin implements.

A connector speaks one CRM's native API in CRM-native names (``Opportunity``/``StageName``,
``deals``/``dealstage``). It knows nothing of definitions or mappings: the engine hands it CRM
field values already rendered and maps the returned record back itself.

Contract, in short:

* ``name`` (the registry key), ``settings_model`` (a pydantic model; ``SecretStr`` fields are
  secrets and are masked wherever settings are shown), ``capabilities``.
* catalog: ``list_objects``, ``describe_object``;
* records: ``create``, ``update``, ``delete``, ``get``; each returns the record *after* the write
  with at least the fields named in ``returning`` (``None`` = whatever is cheap, at least the id);
* ``publish_workflow_event`` hands work to the CRM's own automation;
* ``health`` answers whether the credentials work, with API usage where the CRM reports it;
* ``create_many`` / ``update_many`` / ``delete_many`` default to a loop; CRMs with batch APIs
  override them and return one ``BatchResult`` per input, in order.

Errors: raise only :mod:`crmlink.errors` classes (``NotFound``, ``CrmValidation``,
``CrmRateLimited``, ``CrmUnavailable``, ``ConnectionUnhealthy``), never a client library's.
Every HTTP request to the CRM calls :func:`count_crm_call` so invocations record their cost.
The conformance suite in :mod:`crmlink.testing` is the executable form of this contract.
"""

from __future__ import annotations

import contextvars
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from crmlink.catalog import CatalogObject, ObjectSummary
from crmlink.errors import CrmError, CrmlinkError
from crmlink.records import BatchResult, CrmRecord

__all__ = [
    "CallCounter",
    "Capability",
    "Connector",
    "ConnectorSettings",
    "Health",
    "count_crm_call",
    "counting_crm_calls",
]


class Capability(StrEnum):
    """Optional abilities a connector declares."""

    WORKFLOW = "workflow"
    BATCH = "batch"
    UPSERT = "upsert"


class ConnectorSettings(BaseModel):
    """Base for connector settings models: unknown keys are refused, not dropped."""

    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    """The state of a connection's CRM credentials."""

    ok: bool
    message: str | None = None
    api_usage: dict[str, int] | None = Field(
        default=None, description="e.g. {'used': 17, 'limit': 15000} from the CRM's headers."
    )


class CallCounter:
    """A count of CRM HTTP calls made while it is active (see ``counting_crm_calls``)."""

    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls = 0


_current_counter: contextvars.ContextVar[CallCounter | None] = contextvars.ContextVar(
    "crmlink_crm_calls", default=None
)


def count_crm_call(n: int = 1) -> None:
    """Connectors call this once per HTTP request they send to the CRM."""
    counter = _current_counter.get()
    if counter is not None:
        counter.calls += n


@contextmanager
def counting_crm_calls() -> Iterator[CallCounter]:
    """Count the CRM calls made inside the block (in this thread/task).

    Blocks nest: an enclosing counter also receives the calls counted by an inner one.
    """
    outer = _current_counter.get()
    counter = CallCounter()
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)
        if outer is not None:
            outer.calls += counter.calls


S = TypeVar("S", bound=ConnectorSettings)


class Connector(ABC, Generic[S]):
    """Base class of every CRM connector. One instance serves one connection."""

    name: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, settings: S) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Connector[Any]:
        """Validate raw settings with ``settings_model`` and build the connector."""
        return cls(cls.settings_model.model_validate(dict(settings)))  # type: ignore[arg-type]

    # -- catalog -------------------------------------------------------------------------------
    @abstractmethod
    def list_objects(self) -> list[ObjectSummary]:
        """The CRM objects a mapping may target."""

    @abstractmethod
    def describe_object(self, name: str) -> CatalogObject:
        """One object's fields with their flags; ``NotFound`` for an unknown object."""

    def refresh_catalog(self) -> None:
        """Forget any cached catalog so the next describe asks the CRM again."""

    # -- records -------------------------------------------------------------------------------
    @abstractmethod
    def create(
        self, object: str, values: Mapping[str, Any], *, returning: Sequence[str] | None = None
    ) -> CrmRecord:
        """Create a record and return it as stored (with ``returning`` fields)."""

    @abstractmethod
    def update(
        self,
        object: str,
        id: str,
        values: Mapping[str, Any],
        *,
        returning: Sequence[str] | None = None,
    ) -> CrmRecord:
        """Update a record and return it as stored; ``NotFound`` if it is gone."""

    @abstractmethod
    def delete(self, object: str, id: str) -> None:
        """Delete a record; ``NotFound`` if it does not exist."""

    @abstractmethod
    def get(self, object: str, id: str, *, returning: Sequence[str] | None = None) -> CrmRecord:
        """Read a record; ``NotFound`` if it does not exist."""

    def publish_workflow_event(
        self,
        event: str,
        values: Mapping[str, Any],
        *,
        object: str | None = None,
        id: str | None = None,
    ) -> str | None:
        """Hand work to the CRM's own automation; returns the CRM's receipt id if any."""
        raise CrmlinkError(f"connector {self.name!r} cannot publish workflow events")

    @abstractmethod
    def health(self) -> Health:
        """Check the credentials with a cheap call."""

    # -- batches (default: a loop) -------------------------------------------------------------
    def create_many(
        self,
        object: str,
        records: Sequence[Mapping[str, Any]],
        *,
        returning: Sequence[str] | None = None,
    ) -> list[BatchResult]:
        """Create several records; one result per input, in order."""
        return [
            self._one(lambda v=values: self.create(object, v, returning=returning))
            for values in records
        ]

    def update_many(
        self,
        object: str,
        updates: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        returning: Sequence[str] | None = None,
    ) -> list[BatchResult]:
        """Update several records given as ``(id, values)``; one result per input."""
        return [
            self._one(lambda i=id_, v=values: self.update(object, i, v, returning=returning))
            for id_, values in updates
        ]

    def delete_many(self, object: str, ids: Sequence[str]) -> list[BatchResult]:
        """Delete several records; one result per input (``record`` holds the id only)."""
        results = []
        for id_ in ids:
            result = self._one(lambda i=id_: (self.delete(object, i), CrmRecord(object, i))[1])
            results.append(result)
        return results

    @staticmethod
    def _one(call: Any) -> BatchResult:
        try:
            return BatchResult(record=call())
        except CrmlinkError as exc:
            return BatchResult(error=exc.crm or CrmError(code=exc.type, message=exc.message))

    def close(self) -> None:
        """Release network resources (sessions, pools)."""
