"""The seed page's definitions and requests, verbatim, for tests, the demo and the docs.

``SEED_OBJECTS`` holds the three events exactly as the "Writing data" page writes them in its
``linkCRM`` calls. The page reads back ``document_name`` and ``document_tags`` without declaring
them; ``DEMO_OBJECTS`` adds those two fields (and a ``create_contact`` event, so a contact can
exist before ``contact_deleted``) and is what the demo and the conformance suite use.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["DEMO_OBJECTS", "SEED_OBJECTS", "SEED_REQUESTS"]

SEED_OBJECTS: dict[str, Any] = {
    "opportunity": {
        "events": {
            "create_opportunity": {
                "type": "create",
                "label": "Create Opportunity",
                "description": "Create new opportunities for sales documents that do not have one.",
                "payloadSchema": {
                    "name": {
                        "type": "string",
                        "label": "Opportunity Name",
                        "description": "Desired name of the opportunity",
                    }
                },
            },
            "document_updated": {
                "type": "update",
                "label": "Document Updated",
                "description": "Occurs when relevant document properties change.",
                "payloadSchema": {
                    "name": {
                        "label": "Document Name",
                        "description": "Updated name of the document",
                        "type": "string",
                    },
                    "updated_at": {
                        "label": "Document Last Update Time",
                        "description": "ISO 8601 Date/Time of the last update made to the document",
                        "type": "string",
                        "format": "datetime",
                    },
                },
            },
        }
    },
    "contact": {
        "events": {
            "contact_deleted": {
                "type": "delete",
                "label": "Contact Deleted",
                "description": "Occurs when a contact in our app is deleted",
                "payloadSchema": {
                    "deleted_at": {
                        "label": "Contact Delete Time",
                        "description": (
                            "ISO 8601 Date/Time representing when the contact was deleted"
                        ),
                        "type": "string",
                        "format": "datetime",
                    }
                },
            }
        }
    },
}


def _demo_objects() -> dict[str, Any]:
    objects = copy.deepcopy(SEED_OBJECTS)
    opportunity = objects["opportunity"]
    opportunity["label"] = "Opportunity"
    opportunity["description"] = "Sales documents are tracked against opportunities."
    opportunity["fields"] = {
        "document_name": {"type": "string", "label": "Document name"},
        "document_tags": {"type": "object", "label": "Document tags", "additionalProperties": True},
    }
    contact = objects["contact"]
    contact["label"] = "Contact"
    contact["description"] = "People who sign documents."
    contact["fields"] = {"name": {"type": "string", "label": "Name"}}
    contact["events"]["create_contact"] = {
        "type": "create",
        "label": "Create Contact",
        "description": "A signer was added to a document.",
        "payloadSchema": {
            "name": {"type": "string", "label": "Name", "required": True},
            "email": {"type": "string", "format": "email", "label": "Email"},
        },
    }
    return objects


DEMO_OBJECTS: dict[str, Any] = _demo_objects()

SEED_REQUESTS: list[dict[str, Any]] = [
    {
        "path": "/api/v1/crm/{connectionID}/objects/opportunity/events/create_opportunity",
        "body": {"payload": {"name": "Apple Sales Contract"}},
    },
    {
        "path": "/api/v1/crm/{connectionID}/objects/opportunity/{recordID}/events/document_updated",
        "body": {"payload": {"name": "Sales Contract", "updated_at": "2022-05-17T23:17:53Z"}},
    },
    {
        "path": "/api/v1/crm/{connectionID}/objects/contact/{recordID}/events/contact_deleted",
        "body": {"payload": {"deleted_at": "2022-05-17T23:17:53Z"}},
    },
]
"""The seed's three requests. The page invokes ``create_opportunity_for_document`` but defines
``create_opportunity``; the defined slug is used here (see docs/http-api.md)."""
