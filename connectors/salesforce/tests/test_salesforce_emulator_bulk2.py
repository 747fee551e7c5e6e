"""Bulk API 2.0 on the emulator, through simple-salesforce's ``sf.bulk2``."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from crmlink_salesforce.emulator import SalesforceEmulator
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk2_insert_with_failures_and_results(
    sf: Salesforce, emulator: SalesforceEmulator
) -> None:
    records = [{"LastName": f"L{i}", "Email": f"p{i}@example.com"} for i in range(5)]
    records[2] = {"LastName": "", "Email": "nobody@example.com"}
    contact = sf.bulk2.Contact
    results = contact.insert(records=records, wait=0)
    assert len(results) == 1
    summary = results[0]
    assert summary["numberRecordsProcessed"] == 5
    assert summary["numberRecordsFailed"] == 1
    assert summary["numberRecordsTotal"] == 5
    job_id = summary["job_id"]
    assert job_id.startswith("750")
    ok = _rows(contact.get_successful_records(job_id))
    assert [r["LastName"] for r in ok] == ["L0", "L1", "L3", "L4"]
    assert all(r["sf__Created"] == "true" and r["sf__Id"].startswith("003") for r in ok)
    failed = _rows(contact.get_failed_records(job_id))
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert failed[0]["Email"] == "nobody@example.com"
    assert _rows(contact.get_unprocessed_records(job_id)) == []
    assert len(emulator.records("Contact")) == 4


def test_bulk2_upsert_update_delete(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    account = sf.bulk2.Account
    first = account.upsert(
        records=[{"External_Id__c": "a1", "Name": "One"}, {"External_Id__c": "a2", "Name": "Two"}],
        external_id_field="External_Id__c",
        wait=0,
    )
    assert first[0]["numberRecordsFailed"] == 0
    again = account.upsert(
        records=[{"External_Id__c": "a1", "Name": "Uno"}],
        external_id_field="External_Id__c",
        wait=0,
    )
    created = _rows(account.get_successful_records(again[0]["job_id"]))
    assert created[0]["sf__Created"] == "false"
    ids = [r["Id"] for r in emulator.records("Account")]
    assert [r["Name"] for r in emulator.records("Account")] == ["Uno", "Two"]
    account.update(records=[{"Id": ids[1], "Name": "Dos"}], wait=0)
    assert emulator.records("Account")[1]["Name"] == "Dos"
    result = account.delete(records=[{"Id": ids[0]}, {"Id": ids[0]}], wait=0)
    assert result[0]["numberRecordsFailed"] == 1
    assert [r["Id"] for r in emulator.records("Account")] == [ids[1]]


def test_bulk2_query_pages_with_locator(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    sf.bulk2.Contact.insert(records=[{"LastName": f"Q{i:02d}"} for i in range(25)], wait=0)
    pages = list(sf.bulk2.Contact.query("SELECT Id, LastName FROM Contact", max_records=10, wait=0))
    assert len(pages) == 3
    names = [r["LastName"] for page in pages for r in _rows(page)]
    assert names == [f"Q{i:02d}" for i in range(25)]


def test_bulk2_job_errors(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    auth = {"Authorization": f"Bearer {emulator.token}"}
    base = f"{emulator.url}/services/data/v59.0/jobs/ingest"
    response = requests.post(
        base, json={"operation": "insert", "object": "Nope__c"}, headers=auth, timeout=5
    )
    assert response.status_code == 400
    job = requests.post(
        base, json={"operation": "insert", "object": "Contact"}, headers=auth, timeout=5
    ).json()
    assert job["state"] == "Open"
    closed = requests.patch(
        f"{base}/{job['id']}", json={"state": "UploadComplete"}, headers=auth, timeout=5
    )
    assert closed.status_code == 200
    late = requests.put(
        f"{base}/{job['id']}/batches",
        data="LastName\nX\n",
        headers={**auth, "Content-Type": "text/csv"},
        timeout=5,
    )
    assert late.status_code == 409
    with pytest.raises(SalesforceResourceNotFound):
        sf.bulk2.Contact._client.get_job("7505g0000000999AAA", False)
