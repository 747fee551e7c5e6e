"""crmlink connector for Salesforce, with a local Salesforce emulator.

* :class:`SalesforceConnector` / :class:`SalesforceSettings`: the connector (simple-salesforce).
* :mod:`crmlink_salesforce.emulator`: ``SalesforceEmulator``, the REST API on 127.0.0.1.
"""

from crmlink_salesforce.connector import SalesforceConnector
from crmlink_salesforce.settings import SalesforceSettings

__all__ = ["SalesforceConnector", "SalesforceSettings"]
