"""``crmlink serve --demo``: a demo app, an API key and a mapped connection on the memory CRM."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmlink.engine import Engine
from crmlink.testing.seed import DEMO_OBJECTS

__all__ = ["DEMO_MAPPING", "Demo", "setup_demo"]

DEMO_APP = "demo"
DEMO_CONNECTION = "demo"

DEMO_MAPPING: dict[str, Any] = {
    "objects": {
        "opportunity": {
            "crm_object": "Opportunity",
            "fields": {"document_name": {"from": "Name"}, "document_tags": None},
            "events": {
                "create_opportunity": {
                    "action": "create",
                    "fields": {
                        "Name": {"from": "name"},
                        "StageName": {"value": "Prospecting"},
                        "CloseDate": {"value": "2026-12-31"},
                    },
                },
                "document_updated": {
                    "action": "update",
                    "fields": {"Name": {"from": "name"}, "Description": {"from": "updated_at"}},
                },
            },
        },
        "contact": {
            "crm_object": "Contact",
            "fields": {"name": {"from": "LastName"}},
            "events": {
                "create_contact": {
                    "action": "create",
                    "fields": {"LastName": {"from": "name"}, "Email": {"from": "email"}},
                },
                "contact_deleted": {
                    "action": "update",
                    "fields": {"Status__c": {"value": "Deleted"}},
                },
            },
        },
    }
}


@dataclass(frozen=True)
class Demo:
    key_id: str
    secret: str
    connection_id: str
    opportunity_id: str
    contact_id: str

    def instructions(self, base_url: str) -> str:
        """Credentials and the seed's three requests as curl commands that work as printed."""
        auth = f"{self.key_id}:{self.secret}"
        base = f"{base_url}/api/v1/crm/{self.connection_id}/objects"
        hdr = "-H 'Content-Type: application/json'"
        return "\n".join(
            [
                "crmlink demo is ready.",
                f"  API key (app {DEMO_APP!r}): {auth}",
                f"  connection: {self.connection_id!r} on the memory CRM, mapped",
                "",
                "Create an opportunity:",
                f"  curl -s -u '{auth}' {hdr} -X POST "
                f"{base}/opportunity/events/create_opportunity "
                '-d \'{"payload": {"name": "Apple Sales Contract"}}\'',
                "Update it:",
                f"  curl -s -u '{auth}' {hdr} -X POST "
                f"{base}/opportunity/{self.opportunity_id}/events/document_updated "
                '-d \'{"payload": {"name": "Sales Contract", '
                '"updated_at": "2022-05-17T23:17:53Z"}}\'',
                "Mark a contact deleted:",
                f"  curl -s -u '{auth}' {hdr} -X POST "
                f"{base}/contact/{self.contact_id}/events/contact_deleted "
                '-d \'{"payload": {"deleted_at": "2022-05-17T23:17:53Z"}}\'',
                "The audit log:",
                f"  curl -s -u '{auth}' {base_url}/api/v1/crm/{self.connection_id}/invocations",
                "",
            ]
        )


def _read_credentials(path: Path) -> tuple[str, str] | None:
    try:
        data = json.loads(path.read_text())
        return str(data["key_id"]), str(data["secret"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_credentials(path: Path, key_id: str, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"key_id": key_id, "secret": secret}, handle)


def setup_demo(store: Any, engine: Engine, credentials_file: Path) -> Demo:
    """Create (once) the demo app, key and connection; seed one opportunity and one contact.

    Idempotent: the key is kept in ``credentials_file`` (mode 0600) and reused while it is
    valid; the connection and mapping are rewritten to the demo's.
    """
    app_id = store.ensure_app(DEMO_APP)
    creds = _read_credentials(credentials_file)
    if creds is None or store.verify_api_key(*creds) != app_id:
        creds = store.create_api_key(app_id)
        _write_credentials(credentials_file, *creds)
    demo = engine.for_app(app_id)
    demo.link(DEMO_CONNECTION, "memory", {"instance": "demo"}, DEMO_OBJECTS)
    demo.set_mapping(DEMO_CONNECTION, DEMO_MAPPING)
    crm = demo.connector(DEMO_CONNECTION)
    opportunity = crm.create(
        "Opportunity",
        {"Name": "Oracle Sales Contract", "StageName": "Prospecting", "CloseDate": "2026-12-31"},
    )
    contact = crm.create("Contact", {"LastName": "Doe", "Email": "jane.doe@example.com"})
    return Demo(
        key_id=creds[0],
        secret=creds[1],
        connection_id=DEMO_CONNECTION,
        opportunity_id=f"Opportunity:{opportunity.id}",
        contact_id=f"Contact:{contact.id}",
    )
