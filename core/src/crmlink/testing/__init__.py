"""Testing support shipped with crmlink: the connector conformance suite and the seed data.

Every connector, first-party or third-party, proves itself by subclassing
:class:`ConnectorConformance` (see its docstring) and passing it unchanged.
"""

from crmlink.testing.conformance import CONFORMANCE_OBJECTS, ConnectorConformance, default_mapping
from crmlink.testing.profile import CrmControl, CrmProfile
from crmlink.testing.seed import DEMO_OBJECTS, SEED_OBJECTS, SEED_REQUESTS

__all__ = [
    "CONFORMANCE_OBJECTS",
    "DEMO_OBJECTS",
    "SEED_OBJECTS",
    "SEED_REQUESTS",
    "ConnectorConformance",
    "CrmControl",
    "CrmProfile",
    "default_mapping",
]
