"""The per-request statements that bypass SQLAlchemy's execution layer (crmlink.store._prepared).

They must store and find exactly what the Core paths of the store store and find.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from crmlink.invocations import InvocationLog
from crmlink.store import StoredConnection
from crmlink.store.sql import SqlStore
from sqlalchemy.exc import IntegrityError

START = datetime(2026, 11, 28, 5, 13, 7, 123456, tzinfo=UTC)


def _logs(count: int) -> list[InvocationLog]:
    return [
        InvocationLog(
            "app-a",
            "cust-1",
            "opportunité",
            f"event_{n}",
            status="failed" if n % 3 == 0 else "succeeded",
            action=None if n % 3 == 0 else "create",
            record_id=None if n % 3 == 0 else f"Opportunity:006{n:015d}",
            error_type="crm_validation" if n % 3 == 0 else None,
            error_message="Name: required 🙂" if n % 3 == 0 else None,
            duration_ms=n + 0.125,
            crm_calls=n % 4,
            idempotency_key=f"key-{n}" if n % 2 else None,
            id=f"inv-{n:04d}",
            created_at=START + timedelta(microseconds=n),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [1, 63, 150])
def test_audit_rows_are_stored_exactly(sql_store: SqlStore, count: int) -> None:
    """One row, and batches larger than one SQLite statement holds (~64 rows), read back by Core
    field for field: the same text, numbers, NULLs and microsecond UTC timestamps."""
    written = _logs(count)
    sql_store._insert_invocations(written)
    read = sql_store.list_invocations("app-a", "cust-1", limit=200)
    assert [log.as_dict() for log in reversed(read)] == [log.as_dict() for log in written]
    assert all(log.created_at.tzinfo is not None for log in read)


def test_a_failing_batch_stores_none_of_its_rows(sql_store: SqlStore) -> None:
    """A batch is one transaction, also when SQLite needs several statements for it."""
    batch = _logs(150)
    batch[140].id = batch[0].id  # the unique id is violated in the last statement
    with pytest.raises(IntegrityError):
        sql_store._insert_invocations(batch)
    assert sql_store.list_invocations("app-a", "cust-1") == []
    sql_store._insert_invocations(_logs(2))  # the store is still usable afterwards
    assert len(sql_store.list_invocations("app-a", "cust-1")) == 2


def test_lookups_see_writes_at_once(sql_store: SqlStore) -> None:
    """Revocation and connection changes reach the next lookup (no cached answer, no stale read
    on a kept connection)."""
    app_id = sql_store.ensure_app("acme")
    key_id, secret = sql_store.create_api_key(app_id)
    assert sql_store.verify_api_key(key_id, secret) == app_id
    assert sql_store.connection_version(app_id, "cust-1") is None
    stored = sql_store.put_connection(
        StoredConnection(app_id, "cust-1", "memory", {}, {"objects": {}})
    )
    assert sql_store.connection_version(app_id, "cust-1") == stored.version
    again = sql_store.put_connection(stored)
    assert sql_store.connection_version(app_id, "cust-1") == again.version != stored.version
    sql_store.revoke_api_key(key_id)
    assert sql_store.verify_api_key(key_id, secret) is None
    sql_store.delete_connection(app_id, "cust-1")
    assert sql_store.connection_version(app_id, "cust-1") is None


def test_lookups_from_many_threads(sql_store: SqlStore) -> None:
    """Connections are lent to one thread at a time; forty threads at once all get answers."""
    app_id = sql_store.ensure_app("acme")
    key_id, secret = sql_store.create_api_key(app_id)
    answers: list[str | None] = []
    barrier = threading.Barrier(40)

    def work() -> None:
        barrier.wait()
        for _ in range(25):
            answers.append(sql_store.verify_api_key(key_id, secret))

    threads = [threading.Thread(target=work) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [app_id] * 1000


def test_authorize_invocation_reads_the_key_and_its_apps_connection(sql_store: SqlStore) -> None:
    """One query answers both questions of an invocation, scoped to the key's own app."""
    acme, other = sql_store.ensure_app("acme"), sql_store.ensure_app("other")
    key_id, secret = sql_store.create_api_key(acme)
    stored = sql_store.put_connection(StoredConnection(acme, "cust-1", "memory", {}, {}))
    sql_store.put_connection(StoredConnection(other, "cust-2", "memory", {}, {}))
    assert sql_store.authorize_invocation(key_id, secret, "cust-1") == (acme, stored.version)
    assert sql_store.authorize_invocation(key_id, secret, "nope") == (acme, None)
    assert sql_store.authorize_invocation(key_id, secret, "cust-2") == (acme, None)  # not ours
    assert sql_store.authorize_invocation(key_id, secret, "x\x00y") == (acme, None)
    assert sql_store.authorize_invocation(key_id, "cs_wrong", "cust-1") == (None, None)
    assert sql_store.authorize_invocation("ck_unknown", secret, "cust-1") == (None, None)
    assert sql_store.authorize_invocation("ck\x00", secret, "cust-1") == (None, None)
    sql_store.revoke_api_key(key_id)
    assert sql_store.authorize_invocation(key_id, secret, "cust-1") == (None, None)
