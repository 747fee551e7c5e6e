"""What the conformance suite needs to know about a CRM: names and values, never behaviour.

The suite drives one definition (the seed's three events plus a few helpers) through the Engine.
Every CRM names its objects and fields differently, so a connector's test class supplies a
:class:`CrmProfile` that says which CRM object plays the "deal" and the "contact", which fields
to write, and which values are valid or invalid there. It also supplies a :class:`CrmControl`
(a fixture) through which the suite switches the CRM's faults on and reads its workflow outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["CrmControl", "CrmProfile"]


@dataclass(frozen=True)
class CrmProfile:
    """The CRM-native names and values the conformance suite writes with."""

    deal_object: str
    """CRM object the app's ``opportunity`` maps to (``Opportunity``, ``deals``)."""
    deal_name_field: str
    """String field receiving the payload's ``name`` (``Name``, ``dealname``)."""
    deal_required_constants: dict[str, Any]
    """Constants for the other required-on-create fields of the deal object."""
    deal_text_field: str
    """Updateable free-text field for update events (``Description``, ``description``)."""
    deal_date_field: str
    """A date/datetime field the suite fills from a payload date (required on create, unless
    ``deal_date_required`` says the CRM does not require it)."""
    deal_picklist_field: str
    """A restricted picklist field of the deal object (``StageName``, ``dealstage``)."""
    deal_picklist_valid: str
    deal_picklist_invalid: str
    contact_object: str
    """CRM object the app's ``contact`` maps to (``Contact``, ``contacts``)."""
    contact_name_field: str
    """String field receiving the contact's name (``LastName``, ``lastname``)."""
    contact_required_constants: dict[str, Any] = field(default_factory=dict)
    contact_text_field: str = ""
    """Updateable text field the delete-as-update sets to a marker."""
    workflow_event: str = ""
    """A workflow event the CRM accepts (``Crmlink_Event__e``, ``pe1234_crmlink``)."""
    workflow_field: str = ""
    """A field of that workflow event that receives the payload's name."""
    readonly_field: str = ""
    """A field of the deal object that is neither createable nor updateable."""
    deal_date_required: bool = True
    """Whether the CRM requires ``deal_date_field`` on create (HubSpot deals do not). When it
    does not, the run-time required-field test leaves out the picklist field instead, which
    must then be required."""


class CrmControl(Protocol):
    """Switches on a (real or emulated) CRM that the suite flips, and its workflow outbox."""

    def reset(self) -> None:
        """Clear every fault switched on."""

    def rate_limit(self) -> None:
        """From now on the CRM answers every call with its rate-limit error."""

    def unavailable(self) -> None:
        """From now on the CRM answers every call with a server error (5xx)."""

    def expire_credentials(self) -> None:
        """From now on the CRM refuses the connection's credentials as expired/revoked."""

    def workflow_events(self) -> list[tuple[str, dict[str, Any]]]:
        """Workflow events received so far, oldest first: ``(event name, values)``."""
