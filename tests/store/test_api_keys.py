"""Apps and API keys in the SQL store, and the hashing helpers of crmlink.apikeys."""

from __future__ import annotations

import contextlib
import glob
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from crmlink import apikeys
from crmlink.store._tables import api_keys
from crmlink.store.sql import SqlStore
from sqlalchemy import event, select
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def _driver_statements(store: SqlStore) -> Iterator[list[str]]:
    """Every SQL statement the store's connections send, as the driver sees it.

    Below SQLAlchemy on purpose: the hot lookups run on raw DB-API cursors. The pool is emptied
    first so that every connection used inside the block is opened, and traced, in it.
    """
    statements: list[str] = []

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if store.dialect == "sqlite":
            dbapi_connection.set_trace_callback(statements.append)
            return
        base = dbapi_connection.cursor_factory

        class _Recording(base):  # type: ignore[misc,valid-type]
            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                statements.append(str(query))
                return super().execute(query, *args, **kwargs)

        dbapi_connection.cursor_factory = _Recording

    store.close()
    event.listen(store.engine, "connect", on_connect)
    try:
        yield statements
    finally:
        event.remove(store.engine, "connect", on_connect)
        store.close()


# -- helpers -------------------------------------------------------------------------------------
def test_generated_ids_and_secrets() -> None:
    key_id, secret = apikeys.generate_key_id(), apikeys.generate_secret()
    assert re.fullmatch(r"ck_[0-9a-f]{24}", key_id)
    assert re.fullmatch(r"cs_[A-Za-z0-9_-]{43}", secret)
    assert len({apikeys.generate_secret() for _ in range(100)}) == 100
    assert ":" not in key_id  # usable as the Basic auth user name


def test_hash_and_verify() -> None:
    stored = apikeys.hash_secret("ck_1", "cs_secret")
    assert stored.startswith("sha256$")
    assert "cs_secret" not in stored
    assert apikeys.verify_secret("ck_1", "cs_secret", stored)
    assert not apikeys.verify_secret("ck_1", "cs_secreT", stored)
    assert not apikeys.verify_secret("ck_2", "cs_secret", stored)  # bound to its key id
    assert not apikeys.verify_secret("ck_1", "cs_secret", apikeys.unusable_hash())
    assert not apikeys.verify_secret("ck_1", "cs_secret", "garbage")
    assert not apikeys.verify_secret("ck_1", "cs_secret", stored.replace("sha256", "md5"))
    assert not apikeys.verify_secret("ck_1", "caf\u00e9\ud800", stored)  # odd input is safe


# -- apps ----------------------------------------------------------------------------------------
def test_ensure_app_is_idempotent(sql_store: SqlStore) -> None:
    assert sql_store.app_by_name("acme") is None
    app_id = sql_store.ensure_app("acme")
    assert app_id.startswith("app_")
    assert sql_store.ensure_app("acme") == app_id
    assert sql_store.app_by_name("acme") == app_id
    other = sql_store.ensure_app("globex")
    assert other != app_id
    assert [app["name"] for app in sql_store.list_apps()] == ["acme", "globex"]


def test_ensure_app_race(sql_store: SqlStore) -> None:
    ids: list[str] = []
    barrier = threading.Barrier(10)
    lock = threading.Lock()

    def ensure() -> None:
        barrier.wait()
        app_id = sql_store.ensure_app("racing")
        with lock:
            ids.append(app_id)

    threads = [threading.Thread(target=ensure) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert sql_store.app_by_name("racing") == ids[0]


# -- keys ----------------------------------------------------------------------------------------
def test_create_and_verify(sql_store: SqlStore) -> None:
    app_id = sql_store.ensure_app("acme")
    key_id, secret = sql_store.create_api_key(app_id)
    assert key_id.startswith("ck_")
    assert secret.startswith("cs_")
    assert sql_store.verify_api_key(key_id, secret) == app_id
    assert sql_store.verify_api_key(key_id, secret + "x") is None
    assert sql_store.verify_api_key(key_id, "") is None
    assert sql_store.verify_api_key("ck_unknown", secret) is None
    assert sql_store.verify_api_key("", "") is None
    assert sql_store.verify_api_key("x" * 500, secret) is None


def test_create_for_unknown_app(sql_store: SqlStore) -> None:
    with pytest.raises(LookupError):
        sql_store.create_api_key("app_missing")


def test_only_a_hash_is_stored(sql_store: SqlStore, backend: str) -> None:
    app_id = sql_store.ensure_app("acme")
    key_id, secret = sql_store.create_api_key(app_id)
    with sql_store.engine.connect() as db:
        row = db.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one()
    assert secret not in str(tuple(row))
    assert row.secret_hash == apikeys.hash_secret(key_id, secret)
    if backend == "sqlite":
        database = make_url(sql_store.url).database
        assert database is not None
        raw = b"".join(Path(p).read_bytes() for p in glob.glob(database + "*"))
        assert key_id.encode() in raw
        assert secret.encode() not in raw
        assert secret[3:].encode() not in raw


def test_rotation_two_keys_then_revoke_one(sql_store: SqlStore) -> None:
    app_id = sql_store.ensure_app("acme")
    old_id, old_secret = sql_store.create_api_key(app_id)
    new_id, new_secret = sql_store.create_api_key(app_id)
    assert old_id != new_id
    assert sql_store.verify_api_key(old_id, old_secret) == app_id
    assert sql_store.verify_api_key(new_id, new_secret) == app_id
    assert sql_store.verify_api_key(old_id, new_secret) is None  # secrets are not interchangeable
    assert sql_store.revoke_api_key(old_id) is True
    assert sql_store.verify_api_key(old_id, old_secret) is None  # immediately
    assert sql_store.verify_api_key(new_id, new_secret) == app_id
    assert sql_store.revoke_api_key(old_id) is False  # already revoked
    assert sql_store.revoke_api_key("ck_unknown") is False
    listed = sql_store.list_api_keys(app_id)
    assert [k["key_id"] for k in listed] == [old_id, new_id]
    assert isinstance(listed[0]["revoked_at"], datetime)
    assert listed[1]["revoked_at"] is None
    assert listed[0]["created_at"] <= listed[1]["created_at"]


def test_revocation_seen_by_another_store(sql_store: SqlStore, secret_key: str) -> None:
    """Revoking on one server is effective on another at once: nothing is cached."""
    other = SqlStore(sql_store.engine.url, secret_key=secret_key)
    try:
        app_id = sql_store.ensure_app("acme")
        key_id, secret = sql_store.create_api_key(app_id)
        assert other.verify_api_key(key_id, secret) == app_id
        assert sql_store.revoke_api_key(key_id)
        assert other.verify_api_key(key_id, secret) is None
    finally:
        other.close()


def test_keys_are_scoped_to_their_app(sql_store: SqlStore) -> None:
    a = sql_store.ensure_app("a")
    b = sql_store.ensure_app("b")
    a_key, a_secret = sql_store.create_api_key(a)
    b_key, b_secret = sql_store.create_api_key(b)
    assert sql_store.verify_api_key(a_key, a_secret) == a
    assert sql_store.verify_api_key(b_key, b_secret) == b
    assert [k["key_id"] for k in sql_store.list_api_keys(a)] == [a_key]
    assert [k["key_id"] for k in sql_store.list_api_keys(b)] == [b_key]
    assert sql_store.revoke_api_key(b_key, app_id=a) is False  # A cannot revoke B's key
    assert sql_store.verify_api_key(b_key, b_secret) == b
    assert sql_store.revoke_api_key(b_key, app_id=b) is True
    assert sql_store.list_api_keys("app_nobody") == []


def test_listing_never_shows_secrets(sql_store: SqlStore) -> None:
    app_id = sql_store.ensure_app("acme")
    key_id, secret = sql_store.create_api_key(app_id)
    [listed] = sql_store.list_api_keys(app_id)
    assert set(listed) == {"key_id", "created_at", "revoked_at"}
    assert secret not in repr(listed)
    assert apikeys.hash_secret(key_id, secret) not in repr(listed)


def test_verification_work_does_not_depend_on_the_key_existing(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Known id, wrong secret / revoked / unknown id: one query and one hash comparison each."""
    app_id = sql_store.ensure_app("acme")
    key_id, secret = sql_store.create_api_key(app_id)
    revoked_id, revoked_secret = sql_store.create_api_key(app_id)
    sql_store.revoke_api_key(revoked_id)

    comparisons: list[str] = []
    real_verify = apikeys.verify_secret

    def counting_verify(kid: str, sec: str, stored: str) -> bool:
        comparisons.append(stored)
        return real_verify(kid, sec, stored)

    monkeypatch.setattr(apikeys, "verify_secret", counting_verify)
    with _driver_statements(sql_store) as statements:
        shapes = []
        for kid, sec in [
            (key_id, secret),
            (key_id, "cs_wrong"),
            (revoked_id, revoked_secret),
            ("ck_000000000000000000000000", secret),
        ]:
            for lookup in ("verify", "authorize"):
                statements.clear()
                comparisons.clear()
                if lookup == "verify":
                    sql_store.verify_api_key(kid, sec)
                else:
                    sql_store.authorize_invocation(kid, sec, "cust-1")
                queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
                shapes.append((len(queries), len(comparisons), len(comparisons[0])))
    assert len(set(shapes)) == 1
    assert shapes[0][:2] == (1, 1)
