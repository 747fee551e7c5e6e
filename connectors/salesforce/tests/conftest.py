"""Fixtures: one Salesforce emulator per test session, emptied between tests, and clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crmlink_salesforce.emulator import SalesforceEmulator
from crmlink_salesforce.emulator.client import simple_salesforce_client
from simple_salesforce.api import Salesforce

CUSTOM_ORG = {
    "objects": {
        "Invoice__c": {
            "label": "Invoice",
            "labelPlural": "Invoices",
            "fields": [
                {"name": "Amount__c", "label": "Amount", "type": "currency", "nillable": False},
                {
                    "name": "Status__c",
                    "label": "Status",
                    "type": "picklist",
                    "picklist": ["Draft", "Sent", "Paid"],
                    "restricted": True,
                    "default": "Draft",
                    "nillable": False,
                },
                {
                    "name": "Account__c",
                    "label": "Account",
                    "type": "reference",
                    "referenceTo": ["Account"],
                    "relationshipName": "Account__r",
                },
                {
                    "name": "Legacy_Key__c",
                    "label": "Legacy key",
                    "type": "string",
                    "externalId": True,
                    "length": 32,
                },
            ],
        },
        "Account": {
            "fields": [
                {
                    "name": "Tier__c",
                    "label": "Tier",
                    "type": "picklist",
                    "picklist": ["Gold", "Silver"],
                    "restricted": True,
                }
            ]
        },
    }
}


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[SalesforceEmulator]:
    emulator = SalesforceEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator(emulator_server: SalesforceEmulator) -> Iterator[SalesforceEmulator]:
    """The shared emulator, empty and without faults at the start of each test."""
    emulator_server.control.reset_all()
    emulator_server.api.daily_limit = 15000
    emulator_server.api.query_batch_size = 2000
    yield emulator_server
    emulator_server.control.reset_all()


@pytest.fixture(scope="session")
def custom_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceEmulator]:
    """An emulator whose org adds ``Invoice__c`` and ``Account.Tier__c`` from a JSON file."""
    org_file: Path = tmp_path_factory.mktemp("org") / "org.json"
    org_file.write_text(json.dumps(CUSTOM_ORG))
    emulator = SalesforceEmulator(org_file=org_file).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def sf(emulator: SalesforceEmulator) -> Salesforce:
    return simple_salesforce_client(emulator)


@pytest.fixture
def connector_settings(emulator: SalesforceEmulator) -> dict[str, Any]:
    """Connector settings for the emulator with an access token (fast retries)."""
    return {
        "instance_url": emulator.url,
        "access_token": emulator.token,
        "max_retries": 2,
        "retry_backoff": 0.001,
        "timeout": 5.0,
    }


@pytest.fixture
def oauth_settings(emulator: SalesforceEmulator) -> dict[str, Any]:
    """Connector settings for the emulator with an OAuth refresh setup."""
    return {
        "instance_url": emulator.url,
        "client_id": emulator.oauth.client_id,
        "client_secret": emulator.oauth.client_secret,
        "refresh_token": emulator.oauth.refresh_token,
        "token_url": f"{emulator.url}/services/oauth2/token",
        "max_retries": 1,
        "retry_backoff": 0.001,
        "timeout": 5.0,
    }
