"""The Store contract, one test body run against MemoryStore, SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crmlink.invocations import InvocationLog
from crmlink.store import IdempotencyClaim, MemoryStore, Store, StoredConnection

from tests.store._store_helpers import backends, open_sql_store

HOUR = timedelta(hours=1)


def connection(app: str = "app-a", cid: str = "cust-1", **changes: Any) -> StoredConnection:
    values: dict[str, Any] = {
        "connector": "memory",
        "settings": {"token": "tok-123", "nested": {"a": [1, 2]}},
        "definition": {"objects": {"contact": {"label": "Contact", "fields": {}, "events": {}}}},
    }
    values.update(changes)
    return StoredConnection(app_id=app, connection_id=cid, **values)


def log(
    app: str = "app-a",
    cid: str = "cust-1",
    n: int = 0,
    *,
    event: str = "create_contact",
    status: str = "succeeded",
    **changes: Any,
) -> InvocationLog:
    changes.setdefault("created_at", datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n))
    return InvocationLog(
        app_id=app,
        connection_id=cid,
        object="contact",
        event=event,
        status=status,
        id=f"{app}-{cid}-{n:04d}",
        **changes,
    )


# -- connections ---------------------------------------------------------------------------------
def test_put_and_get_roundtrip(store: Store) -> None:
    created = datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    original = connection(
        mapping={"objects": {"contact": {"crm_object": "Contact", "events": {}}}},
        catalog={"Contact": {"fields": {"Email": {"type": "email"}}}},
        created_at=created,
    )
    saved = store.put_connection(original)
    assert saved.version > 0
    assert saved.created_at == created
    got = store.get_connection("app-a", "cust-1")
    assert got is not None
    assert got == saved
    assert got.settings == {"token": "tok-123", "nested": {"a": [1, 2]}}
    assert got.mapping == original.mapping
    assert got.catalog == original.catalog
    assert got.created_at.tzinfo is not None
    assert store.get_connection("app-a", "nope") is None
    assert store.connection_version("app-a", "nope") is None


def test_put_bumps_version_and_keeps_created_at(store: Store) -> None:
    first = store.put_connection(connection())
    time.sleep(0.002)
    second = store.put_connection(
        connection(settings={"token": "new"}, created_at=datetime.now(UTC) + HOUR)
    )
    third = store.put_connection(connection(mapping={"objects": {}}))
    assert (second.version, third.version) == (first.version + 1, first.version + 2)
    assert second.created_at == first.created_at == third.created_at
    assert second.updated_at > first.updated_at
    assert store.connection_version("app-a", "cust-1") == third.version
    got = store.get_connection("app-a", "cust-1")
    assert got is not None
    assert got.version == third.version
    assert got.settings == {"token": "tok-123", "nested": {"a": [1, 2]}}
    assert got.mapping == {"objects": {}}
    assert got.created_at == first.created_at


def test_connection_none_fields_stay_none(store: Store) -> None:
    store.put_connection(connection(mapping={"objects": {}}))
    store.put_connection(connection(mapping=None, catalog=None))
    got = store.get_connection("app-a", "cust-1")
    assert got is not None
    assert got.mapping is None
    assert got.catalog is None


def test_delete_connection_and_its_invocations(store: Store) -> None:
    store.put_connection(connection())
    store.put_connection(connection(cid="cust-2"))
    store.record_invocation(log(n=1))
    store.record_invocation(log(cid="cust-2", n=1))
    assert store.delete_connection("app-a", "cust-1") is True
    assert store.delete_connection("app-a", "cust-1") is False
    assert store.get_connection("app-a", "cust-1") is None
    assert store.connection_version("app-a", "cust-1") is None
    assert store.list_invocations("app-a", "cust-1") == []
    assert [e.id for e in store.list_invocations("app-a", "cust-2")] == ["app-a-cust-2-0001"]
    again = store.put_connection(connection())
    assert store.list_invocations("app-a", "cust-1") == []
    assert store.connection_version("app-a", "cust-1") == again.version


def test_a_connection_created_again_never_repeats_a_version(store: Store) -> None:
    """Engines (in other processes too) cache a connection's compiled mapping and connector by
    version: a connection deleted and created again under the same id must not come back with a
    version an engine may still hold, or it would be served the old mapping and credentials."""
    seen = []
    for _ in range(3):
        first = store.put_connection(connection())
        second = store.put_connection(first)
        assert second.version == first.version + 1
        seen += [first.version, second.version]
        assert store.delete_connection("app-a", "cust-1")
    assert len(set(seen)) == len(seen)


def test_list_connections_order_and_pagination(store: Store) -> None:
    ids = ["b", "B", "a", "_x", "ä", "a-1", "a1", "Z", "10", "9"]
    for cid in ids:
        store.put_connection(connection(cid=cid))
    store.put_connection(connection(app="app-b", cid="a0"))
    everything = [c.connection_id for c in store.list_connections("app-a", limit=100)]
    assert everything == sorted(ids)
    pages: list[str] = []
    after: str | None = None
    while True:
        page = store.list_connections("app-a", limit=3, after=after)
        if not page:
            break
        assert len(page) <= 3
        pages.extend(c.connection_id for c in page)
        after = page[-1].connection_id
    assert pages == sorted(ids)
    assert [c.connection_id for c in store.list_connections("app-a", after="a")] == [
        i for i in sorted(ids) if i > "a"
    ]
    assert store.list_connections("app-a", limit=0) == []
    assert len(store.list_connections("app-a")) == len(ids)
    listed = store.list_connections("app-a", limit=1)[0]
    assert listed.settings == {"token": "tok-123", "nested": {"a": [1, 2]}}
    assert listed == store.get_connection("app-a", listed.connection_id)


# -- invocations ---------------------------------------------------------------------------------
def test_invocations_roundtrip(store: Store) -> None:
    entry = log(
        n=7,
        status="failed",
        action="create",
        record_id="Contact:003",
        error_type="crm_validation",
        error_message="REQUIRED_FIELD_MISSING: LastName",
        duration_ms=12.5,
        crm_calls=3,
        idempotency_key="idem-1",
    )
    store.record_invocation(entry)
    [got] = store.list_invocations("app-a", "cust-1")
    assert got == entry
    assert got.as_dict() == entry.as_dict()


def test_invocations_newest_first_with_cursor(store: Store) -> None:
    for n in range(12):
        store.record_invocation(log(n=n))
    first = store.list_invocations("app-a", "cust-1", limit=5)
    assert [e.id for e in first] == [f"app-a-cust-1-{n:04d}" for n in (11, 10, 9, 8, 7)]
    second = store.list_invocations("app-a", "cust-1", limit=5, before=first[-1].id)
    assert [e.id for e in second] == [f"app-a-cust-1-{n:04d}" for n in (6, 5, 4, 3, 2)]
    third = store.list_invocations("app-a", "cust-1", limit=5, before=second[-1].id)
    assert [e.id for e in third] == ["app-a-cust-1-0001", "app-a-cust-1-0000"]
    assert store.list_invocations("app-a", "cust-1", before=third[-1].id) == []
    assert store.list_invocations("app-a", "cust-1", before="unknown") == []
    assert store.list_invocations("app-a", "cust-1", limit=0) == []


def test_invocations_in_recording_order_not_timestamp_order(store: Store) -> None:
    store.record_invocation(log(n=5))
    store.record_invocation(log(n=1))  # recorded later, with an older timestamp
    assert [e.id for e in store.list_invocations("app-a", "cust-1")] == [
        "app-a-cust-1-0001",
        "app-a-cust-1-0005",
    ]


def test_invocation_filters(store: Store) -> None:
    for n in range(10):
        store.record_invocation(
            log(
                n=n,
                event="create_contact" if n % 2 else "update_contact",
                status="failed" if n % 3 == 0 else "succeeded",
            )
        )

    def ids(**kw: Any) -> list[int]:
        return [int(e.id[-4:]) for e in store.list_invocations("app-a", "cust-1", **kw)]

    assert ids(event="create_contact") == [9, 7, 5, 3, 1]
    assert ids(status="failed") == [9, 6, 3, 0]
    assert ids(event="update_contact", status="failed") == [6, 0]
    assert ids(event="create_contact", limit=2) == [9, 7]
    assert ids(event="create_contact", limit=2, before="app-a-cust-1-0007") == [5, 3]
    assert ids(event="nope") == []


def test_invocations_scoped_to_connection_and_app(store: Store) -> None:
    store.record_invocation(log(n=1))
    store.record_invocation(log(cid="cust-2", n=2))
    store.record_invocation(log(app="app-b", n=3))
    assert [e.id for e in store.list_invocations("app-a", "cust-1")] == ["app-a-cust-1-0001"]
    assert [e.id for e in store.list_invocations("app-b", "cust-1")] == ["app-b-cust-1-0003"]
    # a cursor from another connection or app is unknown here
    assert store.list_invocations("app-a", "cust-1", before="app-a-cust-2-0002") == []
    assert store.list_invocations("app-a", "cust-1", before="app-b-cust-1-0003") == []


# -- app scoping ---------------------------------------------------------------------------------
def test_apps_do_not_see_each_other(store: Store) -> None:
    a_shared = store.put_connection(connection(app="app-a", cid="shared", settings={"who": "a"}))
    b_shared = store.put_connection(connection(app="app-b", cid="shared", settings={"who": "b"}))
    only_b = store.put_connection(connection(app="app-b", cid="only-b"))
    a = store.get_connection("app-a", "shared")
    b = store.get_connection("app-b", "shared")
    assert a is not None
    assert b is not None
    assert (a.settings, b.settings) == ({"who": "a"}, {"who": "b"})
    assert store.get_connection("app-a", "only-b") is None
    assert store.connection_version("app-a", "only-b") is None
    assert [c.connection_id for c in store.list_connections("app-a")] == ["shared"]
    assert store.delete_connection("app-a", "only-b") is False
    assert store.connection_version("app-b", "only-b") == only_b.version
    store.put_connection(connection(app="app-a", cid="shared"))
    assert store.connection_version("app-a", "shared") == a_shared.version + 1
    assert store.connection_version("app-b", "shared") == b_shared.version
    assert store.claim_idempotency_key("app-a", "k", "fp-a", HOUR).state == "new"
    assert store.claim_idempotency_key("app-b", "k", "fp-b", HOUR).state == "new"
    store.release_idempotency_key("app-b", "k")
    assert store.claim_idempotency_key("app-a", "k", "fp-a", HOUR).state == "running"


# -- idempotency ---------------------------------------------------------------------------------
def test_idempotency_lifecycle(store: Store) -> None:
    assert store.claim_idempotency_key("app-a", "k1", "fp", HOUR) == IdempotencyClaim("new")
    assert store.claim_idempotency_key("app-a", "k1", "fp", HOUR) == IdempotencyClaim("running")
    assert store.claim_idempotency_key("app-a", "k1", "other", HOUR) == IdempotencyClaim("conflict")
    response = {"status": 200, "body": {"record": {"id": "Contact:1", "data": {"x": [1, None]}}}}
    store.complete_idempotency_key("app-a", "k1", response)
    assert store.claim_idempotency_key("app-a", "k1", "fp", HOUR) == IdempotencyClaim(
        "replay", response
    )
    assert store.claim_idempotency_key("app-a", "k1", "other", HOUR).state == "conflict"


def test_idempotency_release(store: Store) -> None:
    assert store.claim_idempotency_key("app-a", "k", "fp", HOUR).state == "new"
    store.release_idempotency_key("app-a", "k")
    store.release_idempotency_key("app-a", "k")  # releasing twice is harmless
    assert store.claim_idempotency_key("app-a", "k", "other", HOUR).state == "new"


def test_idempotency_expiry(store: Store) -> None:
    assert store.claim_idempotency_key("app-a", "k", "fp", HOUR).state == "new"
    store.complete_idempotency_key("app-a", "k", {"status": 200})
    time.sleep(0.01)
    assert store.claim_idempotency_key("app-a", "k", "fp", HOUR).state == "replay"
    # older than the ttl: the key is taken over, even by another request
    claim = store.claim_idempotency_key("app-a", "k", "other", timedelta(milliseconds=1))
    assert claim == IdempotencyClaim("new")
    assert store.claim_idempotency_key("app-a", "k", "other", HOUR).state == "running"
    assert store.claim_idempotency_key("app-a", "k", "fp", HOUR).state == "conflict"
    # a running claim expires too
    time.sleep(0.01)
    assert store.claim_idempotency_key("app-a", "k", "fp", timedelta(0)).state == "new"


def test_twenty_threads_race_for_one_key(store: Store) -> None:
    results: list[str] = []
    barrier = threading.Barrier(20)
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        state = store.claim_idempotency_key("app-a", "race", "fp", HOUR).state
        with lock:
            results.append(state)

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["new"] + ["running"] * 19


def test_twenty_threads_race_for_an_expired_key(store: Store) -> None:
    assert store.claim_idempotency_key("app-a", "race", "old", HOUR).state == "new"
    time.sleep(1.5)
    results: list[str] = []
    barrier = threading.Barrier(20)
    lock = threading.Lock()

    def claim(n: int) -> None:
        barrier.wait()
        state = store.claim_idempotency_key("app-a", "race", "new", timedelta(seconds=1)).state
        with lock:
            results.append(state)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["new"] + ["running"] * 19


def test_concurrent_puts_each_get_a_version(store: Store) -> None:
    store.put_connection(connection())
    versions: list[int] = []
    barrier = threading.Barrier(10)
    lock = threading.Lock()

    def put(n: int) -> None:
        barrier.wait()
        saved = store.put_connection(connection(settings={"n": n}))
        with lock:
            versions.append(saved.version)

    first = store.connection_version("app-a", "cust-1")
    assert first is not None
    threads = [threading.Thread(target=put, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == list(range(first + 1, first + 11))
    assert store.connection_version("app-a", "cust-1") == first + 10


def test_concurrent_first_puts(store: Store) -> None:
    """Racing creations of one connection: one creates it, the others update it in turn."""
    versions: list[int] = []
    barrier = threading.Barrier(10)
    lock = threading.Lock()

    def put(n: int) -> None:
        barrier.wait()
        saved = store.put_connection(connection(cid="fresh", settings={"n": n}))
        with lock:
            versions.append(saved.version)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == list(range(min(versions), min(versions) + 10))


# -- differential: the SQL stores answer exactly what MemoryStore answers -------------------------
OPERATIONS = (
    *("put", "put", "get", "version", "delete", "list", "record", "record", "logs"),
    *("claim", "claim", "complete", "release"),
)


def _normalise(value: Any, firsts: dict[tuple[str, str], int] | None = None) -> Any:
    """Comparable answers. Versions become counts of changes since the connection's creation
    (``firsts`` holds each one's first version): stores start them at different numbers."""
    if isinstance(value, StoredConnection):
        body = {f.name: getattr(value, f.name) for f in fields(value) if f.name != "updated_at"}
        if firsts is not None:
            body["version"] -= firsts[(value.app_id, value.connection_id)]
        return body
    if isinstance(value, list):
        return [_normalise(item, firsts) for item in value]
    if isinstance(value, InvocationLog):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return value


@pytest.mark.parametrize("backend_name", backends("sqlite", "postgres"))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_answers_as_memory_store(
    backend_name: str,
    seed: int,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    secret_key: str,
) -> None:
    sql = open_sql_store(backend_name, request, tmp_path, secret_key)
    memory = MemoryStore()
    rng = random.Random(seed)
    apps = ["app-a", "app-b"]
    cids = ["c0", "c1", "C2", "c3", "é4"]
    keys = ["k0", "k1", "k2"]
    recorded: list[str] = []
    claimed: set[tuple[str, str]] = set()
    firsts: dict[str, dict[tuple[str, str], int]] = {"memory": {}, "sql": {}}
    base = datetime(2026, 3, 1, tzinfo=UTC)

    for step in range(250):
        app, cid = rng.choice(apps), rng.choice(cids)
        op = rng.choice(OPERATIONS)
        args: tuple[Any, ...]
        kwargs: dict[str, Any] = {}
        if op == "put":
            name = "put_connection"
            args = (
                connection(
                    app,
                    cid,
                    settings={"step": step},
                    mapping=rng.choice([None, {"objects": {"o": step}}]),
                    created_at=base + timedelta(minutes=step),
                ),
            )
        elif op in ("get", "version", "delete"):
            name = {"get": "get_connection", "version": "connection_version"}.get(
                op, "delete_connection"
            )
            args = (app, cid)
        elif op == "list":
            name = "list_connections"
            args = (app,)
            kwargs = {"limit": rng.randint(0, 4), "after": rng.choice([None, *cids])}
        elif op == "record":
            name = "record_invocation"
            entry = log(
                app,
                cid,
                step,
                event=rng.choice(["e1", "e2"]),
                status=rng.choice(["succeeded", "failed"]),
                created_at=base + timedelta(seconds=rng.randint(0, 1000)),
            )
            recorded.append(entry.id)
            args = (entry,)
        elif op == "logs":
            name = "list_invocations"
            args = (app, cid)
            kwargs = {
                "event": rng.choice([None, "e1", "e2"]),
                "status": rng.choice([None, "succeeded", "failed"]),
                "limit": rng.randint(0, 5),
                "before": rng.choice([None, "missing", *recorded[-6:]]),
            }
        elif op == "claim":
            name = "claim_idempotency_key"
            key = rng.choice(keys)
            args = (app, key, rng.choice(["f1", "f2"]), HOUR)
        elif op == "complete":
            if not claimed:
                continue
            name = "complete_idempotency_key"
            app, key = sorted(claimed)[rng.randrange(len(claimed))]
            args = (app, key, {"status": 200, "step": step})
        else:
            name = "release_idempotency_key"
            key = rng.choice(keys)
            args = (app, key)
            claimed.discard((app, key))

        created = name == "put_connection" and memory.connection_version(app, cid) is None
        expected = getattr(memory, name)(*args, **kwargs)
        actual = getattr(sql, name)(*args, **kwargs)
        if created:
            firsts["memory"][(app, cid)] = expected.version
            firsts["sql"][(app, cid)] = actual.version
        if name == "connection_version":
            expected = None if expected is None else expected - firsts["memory"][(app, cid)]
            actual = None if actual is None else actual - firsts["sql"][(app, cid)]
        assert _normalise(actual, firsts["sql"]) == _normalise(expected, firsts["memory"]), (
            step,
            name,
            args,
            kwargs,
        )
        if name == "claim_idempotency_key" and expected.state == "new":
            claimed.add((app, key))
