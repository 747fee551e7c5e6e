"""crmlink over Salesforce vs simple-salesforce by hand: time and CRM HTTP calls per event.

One Salesforce emulator, one run. The app side invokes ``create_opportunity`` through
``Engine.invoke`` (memory store, the Salesforce connector, a mapping with Opportunity's
required fields). The direct side does what an integration without crmlink does to get the
same answer: ``sf.Opportunity.create(values)`` and then ``sf.Opportunity.get(id)`` for the
stored record. Then 10,000 records go through ``create_many`` (sObject Collections inside
Composite) and the CRM HTTP calls are counted.

    uv run python benchmarks/salesforce_overhead.py [--events N] [--rounds R] [--batch N]

Targets (issue #4): time ratio engine/direct at most 1.15; 1 CRM HTTP call per event;
10,000 batch creates in at most 55 CRM HTTP calls.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Any

from crmlink import Engine, MemoryStore
from crmlink.connector import counting_crm_calls
from crmlink.testing import DEMO_OBJECTS
from crmlink_salesforce.emulator import SalesforceEmulator
from crmlink_salesforce.emulator.client import simple_salesforce_client

RATIO_TARGET = 1.15
CALLS_TARGET = 1.0
BATCH_CALLS_TARGET = 55
VALUES = {"Name": "Apple Sales Contract", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
MAPPING: dict[str, Any] = {
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
                "document_updated": {"action": "update", "fields": {"Name": {"from": "name"}}},
            },
        },
        "contact": {
            "crm_object": "Contact",
            "fields": {"name": {"from": "LastName"}},
            "events": {
                "create_contact": {"action": "create", "fields": {"LastName": {"from": "name"}}},
                "contact_deleted": {"action": "delete"},
            },
        },
    }
}


def _direct(emulator: SalesforceEmulator, events: int) -> tuple[float, int]:
    sf = simple_salesforce_client(emulator)
    before = emulator.request_count
    started = time.perf_counter()
    for _ in range(events):
        created = sf.Opportunity.create(VALUES)
        sf.Opportunity.get(created["id"])
    return time.perf_counter() - started, emulator.request_count - before


def _engine(engine: Engine, emulator: SalesforceEmulator, events: int) -> tuple[float, int, int]:
    payload = {"name": "Apple Sales Contract"}
    before = emulator.request_count
    started = time.perf_counter()
    for _ in range(events):
        engine.invoke("bench", "opportunity", "create_opportunity", payload)
    elapsed = time.perf_counter() - started
    logged = engine.invocations("bench", limit=events)
    if len(logged) != events or any(log.status != "succeeded" for log in logged):
        raise RuntimeError("some benchmark invocations failed")
    return elapsed, sum(log.crm_calls for log in logged), emulator.request_count - before


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds per side")
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    emulator = SalesforceEmulator(daily_limit=10_000_000).start()
    try:
        engine = Engine(MemoryStore())
        settings = {"instance_url": emulator.url, "access_token": emulator.token}
        engine.link("bench", "salesforce", settings, DEMO_OBJECTS)
        engine.set_mapping("bench", MAPPING)
        _direct(emulator, 50), _engine(engine, emulator, 50)  # warm up connections and caches
        gc.collect()
        direct_times, engine_times = [], []
        calls = http = direct_http = 0
        for _ in range(args.rounds):  # interleaved so both sides see the same machine state
            seconds, direct_http = _direct(emulator, args.events)
            direct_times.append(seconds)
            seconds, calls, http = _engine(engine, emulator, args.events)
            engine_times.append(seconds)
        direct = min(direct_times) / args.events * 1e3
        through = min(engine_times) / args.events * 1e3
        ratio = through / direct
        per_event = calls / args.events
        emulator.control.reset_all()
        crm = engine.connector("bench")
        records = [{**VALUES, "Name": f"Deal {i}"} for i in range(args.batch)]
        with counting_crm_calls() as counter:
            started = time.perf_counter()
            results = crm.create_many("Opportunity", records, returning=["Name"])
            batch_seconds = time.perf_counter() - started
        stored = len(emulator.records("Opportunity"))
    finally:
        emulator.stop()
    ok_ratio = ratio <= RATIO_TARGET
    ok_calls = per_event <= CALLS_TARGET
    ok_batch = counter.calls <= BATCH_CALLS_TARGET and stored == args.batch
    print(f"events per side:            {args.events} (best of {args.rounds} rounds)")
    print(
        f"direct create + get         {direct:8.3f} ms/event  "
        f"({direct_http / args.events:.2f} HTTP calls/event)"
    )
    print(
        f"Engine.invoke create        {through:8.3f} ms/event  "
        f"({http / args.events:.2f} HTTP requests seen by the emulator/event)"
    )
    print(
        f"time ratio engine/direct    {ratio:8.3f}  (target <= {RATIO_TARGET}: "
        f"{'met' if ok_ratio else 'MISSED'})"
    )
    print(
        f"CRM HTTP calls per event    {per_event:8.2f}  (target {CALLS_TARGET:.0f}: "
        f"{'met' if ok_calls else 'MISSED'})"
    )
    print(
        f"batch create of {args.batch}:     {counter.calls} CRM HTTP calls, "
        f"{sum(r.ok for r in results)} ok, {batch_seconds:.2f} s  "
        f"(target <= {BATCH_CALLS_TARGET}: {'met' if ok_batch else 'MISSED'})"
    )
    return 0 if ok_ratio and ok_calls and ok_batch else 1


if __name__ == "__main__":
    sys.exit(main())
