"""crmlink over HubSpot vs hubspot-api-client by hand: time and CRM HTTP calls per event.

One HubSpot emulator, one run. The app side invokes ``create_opportunity`` through
``Engine.invoke`` (memory store, the HubSpot connector, opportunity mapped to ``deals``). The
direct side does what an integration without crmlink does for the same answer:
``client.crm.objects.basic_api.create("deals", ...)``, which already answers with the id and the
stored properties. Both sides alternate, round by round, on the same emulator; the best round
of each counts. Then 10,000 records go through ``create_many`` (``batch/create``, 100 per call)
on an emulator enforcing HubSpot's default burst limit (100 requests per 10 s), and the CRM HTTP
calls and the 429s are counted.

    uv run python benchmarks/hubspot_overhead.py [--events N] [--rounds R] [--batch N]

Targets (issue #5): time ratio engine/direct at most 1.15; 1 CRM HTTP call per event;
10,000 batch creates in at most 100 CRM HTTP calls, without a single 429 reaching the caller.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Any

import hubspot
from crmlink import Engine, MemoryStore
from crmlink.connector import counting_crm_calls
from crmlink.testing import DEMO_OBJECTS
from crmlink_hubspot.emulator import HubSpotEmulator
from hubspot.crm.objects import SimplePublicObjectInputForCreate

RATIO_TARGET = 1.15
CALLS_TARGET = 1.0
BATCH_CALLS_TARGET = 100
VALUES = {
    "dealname": "Apple Sales Contract",
    "dealstage": "appointmentscheduled",
    "closedate": "2026-12-31",
}
MAPPING: dict[str, Any] = {
    "objects": {
        "opportunity": {
            "crm_object": "deals",
            "fields": {"document_name": {"from": "dealname"}, "document_tags": None},
            "events": {
                "create_opportunity": {
                    "action": "create",
                    "fields": {
                        "dealname": {"from": "name"},
                        "dealstage": {"value": "appointmentscheduled"},
                        "closedate": {"value": "2026-12-31"},
                    },
                },
                "document_updated": {
                    "action": "update",
                    "fields": {"dealname": {"from": "name"}},
                },
            },
        },
        "contact": {
            "crm_object": "contacts",
            "fields": {"name": {"from": "lastname"}},
            "events": {
                "create_contact": {"action": "create", "fields": {"lastname": {"from": "name"}}},
                "contact_deleted": {"action": "delete"},
            },
        },
    }
}


def _direct(api: Any, emulator: HubSpotEmulator, events: int) -> tuple[float, int]:
    before = emulator.request_count
    started = time.perf_counter()
    for _ in range(events):
        created = api.create("deals", SimplePublicObjectInputForCreate(properties=VALUES))
        assert created.id
    return time.perf_counter() - started, emulator.request_count - before


def _engine(engine: Engine, emulator: HubSpotEmulator, events: int) -> tuple[float, int, int]:
    payload = {"name": "Apple Sales Contract"}
    before = emulator.request_count
    started = time.perf_counter()
    for _ in range(events):
        engine.invoke("bench", "opportunity", "create_opportunity", payload)
    elapsed = time.perf_counter() - started
    logged = engine.invocations("bench", limit=events)
    assert len(logged) == events
    assert all(log.status == "succeeded" for log in logged)
    return elapsed, sum(log.crm_calls for log in logged), emulator.request_count - before


def _batch(size: int) -> tuple[int, int, int, int, float]:
    """create_many of ``size`` deals under the default burst limit: calls, 429s, ok, stored."""
    emulator = HubSpotEmulator().start()  # 100 requests per rolling 10 s, as on HubSpot
    try:
        engine = Engine(MemoryStore())
        engine.link(
            "batch",
            "hubspot",
            {"access_token": emulator.token, "base_url": emulator.url},
            DEMO_OBJECTS,
        )
        crm = engine.connector("batch")
        records = [{**VALUES, "dealname": f"Deal {i}"} for i in range(size)]
        before = emulator.request_count
        with counting_crm_calls() as counter:
            started = time.perf_counter()
            results = crm.create_many("deals", records, returning=["dealname"])
            seconds = time.perf_counter() - started
        assert emulator.request_count - before == counter.calls
        stored = len(emulator.records("deals"))
        return (
            counter.calls,
            emulator.rate_limited_count,
            sum(r.ok for r in results),
            stored,
            seconds,
        )
    finally:
        emulator.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="best of N rounds per side")
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    emulator = HubSpotEmulator(burst_limit=10_000_000, daily_limit=10_000_000).start()
    try:
        engine = Engine(MemoryStore())
        settings = {"access_token": emulator.token, "base_url": emulator.url}
        engine.link("bench", "hubspot", settings, DEMO_OBJECTS)
        engine.set_mapping("bench", MAPPING)
        api = hubspot.Client.create(
            access_token=emulator.token, host=emulator.url
        ).crm.objects.basic_api
        _direct(api, emulator, 50), _engine(engine, emulator, 50)  # warm up pools and caches
        gc.collect()
        direct_times, engine_times = [], []
        calls = http = direct_http = 0
        for _ in range(args.rounds):  # interleaved so both sides see the same machine state
            seconds, direct_http = _direct(api, emulator, args.events)
            direct_times.append(seconds)
            seconds, calls, http = _engine(engine, emulator, args.events)
            engine_times.append(seconds)
    finally:
        emulator.stop()
    direct = min(direct_times) / args.events * 1e3
    through = min(engine_times) / args.events * 1e3
    ratio = through / direct
    per_event = calls / args.events
    batch_calls, limited, ok, stored, batch_seconds = _batch(args.batch)
    ok_ratio = ratio <= RATIO_TARGET
    ok_calls = per_event <= CALLS_TARGET and http == calls
    needed = -(-args.batch // 100)  # ceil: HubSpot takes 100 inputs per batch call
    ok_batch = batch_calls <= needed and limited == 0 and ok == stored == args.batch
    ok_batch = ok_batch and (args.batch > 10_000 or batch_calls <= BATCH_CALLS_TARGET)
    print(f"events per side:            {args.events} (best of {args.rounds} rounds)")
    print(
        f"direct basic_api.create     {direct:8.3f} ms/event  "
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
        f"batch create of {args.batch}:     {batch_calls} CRM HTTP calls, {limited} x 429, "
        f"{ok} ok, {stored} stored, {batch_seconds:.2f} s  "
        f"(target <= {BATCH_CALLS_TARGET} calls, no 429: {'met' if ok_batch else 'MISSED'})"
    )
    return 0 if ok_ratio and ok_calls and ok_batch else 1


if __name__ == "__main__":
    sys.exit(main())
