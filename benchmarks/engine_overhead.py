"""What the engine adds per event: Engine.invoke vs a direct connector create, same run.

20,000 create invocations through ``Engine.invoke`` (memory CRM, memory store) against 20,000
``MemoryConnector.create`` calls with the values the mapping would have rendered. Both sides
write to the same kind of in-memory CRM, so the difference is the engine: payload validation,
mapping, read-back mapping, idempotency bookkeeping (none here), the invocation log.

    uv run python benchmarks/engine_overhead.py [--events N]

Target (issue #2): the engine adds at most 50 µs per event.
"""

from __future__ import annotations

import argparse
import gc
import time

from crmlink import Engine, MemoryStore
from crmlink.server.demo import DEMO_MAPPING
from crmlink.testing import DEMO_OBJECTS
from crmlink_memory import MemoryConnector, MemorySettings

TARGET_US = 50.0


def _direct(events: int) -> float:
    connector = MemoryConnector(MemorySettings())
    values = {"Name": "Apple Sales Contract", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
    returning = ("Name",)
    started = time.perf_counter()
    for _ in range(events):
        connector.create("Opportunity", values, returning=returning)
    return time.perf_counter() - started


def _engine(events: int) -> float:
    engine = Engine(MemoryStore())
    engine.link("bench", "memory", {}, DEMO_OBJECTS)
    engine.set_mapping("bench", DEMO_MAPPING)
    payload = {"name": "Apple Sales Contract"}
    started = time.perf_counter()
    for _ in range(events):
        engine.invoke("bench", "opportunity", "create_opportunity", payload)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds per side")
    events = parser.parse_args().events
    rounds = parser.parse_args().rounds
    _direct(1000), _engine(1000)  # warm up imports and caches
    gc.collect()
    direct = min(_direct(events) for _ in range(rounds)) / events * 1e6
    engine = min(_engine(events) for _ in range(rounds)) / events * 1e6
    added = engine - direct
    print(f"events per side:        {events} (best of {rounds} rounds)")
    print(f"direct connector.create {direct:8.1f} µs/event")
    print(f"Engine.invoke           {engine:8.1f} µs/event")
    print(
        f"engine adds             {added:8.1f} µs/event  (target ≤ {TARGET_US:.0f} µs: "
        f"{'met' if added <= TARGET_US else 'MISSED'})"
    )
    print(f"ratio engine/direct     {engine / direct:8.2f}")


if __name__ == "__main__":
    main()
