"""What only the SQL store does: encryption at rest, migrations, purges, cross-process races."""

from __future__ import annotations

import glob
import multiprocessing
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from crmlink.invocations import InvocationLog
from crmlink.secrets import SecretDecryptionError, generate_key
from crmlink.store import StoredConnection
from crmlink.store._tables import VERSION_TABLE, connections, metadata
from crmlink.store.sql import (
    MIGRATIONS_DIR,
    SqlStore,
    alembic_config,
    create_sql_engine,
    head_revision,
    upgrade,
)
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from tests.store._store_helpers import race_claim

PLAINTEXT = "sf-refresh-token-5bd8c0e1-PLAINTEXT"
MARKER = "definition-marker-81c2f7"
HOUR = timedelta(hours=1)


def secret_connection(app: str = "app-a", cid: str = "cust-1") -> StoredConnection:
    return StoredConnection(
        app_id=app,
        connection_id=cid,
        connector="salesforce",
        settings={"refresh_token": PLAINTEXT, "instance_url": "https://example.my.salesforce.com"},
        definition={"objects": {"contact": {"label": MARKER}}},
    )


def pg_dump_binary() -> str:
    found = shutil.which("pg_dump") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    assert found
    return found


# -- encryption at rest --------------------------------------------------------------------------
def test_settings_are_encrypted_at_rest(sql_store: SqlStore, backend: str, tmp_path: Path) -> None:
    sql_store.put_connection(secret_connection())
    sql_store.put_connection(secret_connection(cid="cust-2"))
    got = sql_store.get_connection("app-a", "cust-1")
    assert got is not None
    assert got.settings["refresh_token"] == PLAINTEXT
    with sql_store.engine.connect() as db:
        stored = db.execute(select(connections.c.settings)).scalars().all()
    assert len(stored) == 2
    for token in stored:
        assert token.startswith("gAAAA")  # a Fernet token
        assert PLAINTEXT not in token

    if backend == "sqlite":
        database = make_url(sql_store.url).database
        assert database is not None
        raw = b"".join(
            Path(path).read_bytes() for path in glob.glob(database + "*") if Path(path).is_file()
        )
    else:
        libpq_url = make_url(sql_store.engine.url).set(drivername="postgresql")
        dump = subprocess.run(
            [pg_dump_binary(), "--dbname", libpq_url.render_as_string(hide_password=False)],
            capture_output=True,
            check=True,
            timeout=120,
        )
        raw = dump.stdout
    assert MARKER.encode() in raw  # the search does see the stored data...
    assert PLAINTEXT.encode() not in raw  # ...and no plaintext secret in it


def test_wrong_key_cannot_read_settings(sql_store: SqlStore) -> None:
    saved = sql_store.put_connection(secret_connection())
    other = SqlStore(sql_store.engine.url, secret_key=generate_key())
    try:
        with pytest.raises(SecretDecryptionError) as caught:
            other.get_connection("app-a", "cust-1")
        assert PLAINTEXT not in str(caught.value)
        # metadata still readable
        assert other.connection_version("app-a", "cust-1") == saved.version
    finally:
        other.close()


def test_key_rotation(sql_store: SqlStore, secret_key: str) -> None:
    versions = {
        cid: sql_store.put_connection(secret_connection(cid=cid)).version
        for cid in ("cust-1", "cust-2")
    }
    new_key = generate_key()
    url = sql_store.engine.url
    both = SqlStore(url, secret_key=f"{new_key},{secret_key}")
    only_new = SqlStore(url, secret_key=new_key)
    only_old = SqlStore(url, secret_key=secret_key)
    try:
        got = both.get_connection("app-a", "cust-1")
        assert got is not None
        assert got.settings["refresh_token"] == PLAINTEXT
        with pytest.raises(SecretDecryptionError):
            only_new.get_connection("app-a", "cust-1")
        # written with the new key
        versions["cust-3"] = both.put_connection(secret_connection(cid="cust-3")).version
        assert both.rotate_secrets() == 2
        assert both.rotate_secrets() == 0
        for cid in ("cust-1", "cust-2", "cust-3"):
            found = only_new.get_connection("app-a", cid)
            assert found is not None
            assert found.settings["refresh_token"] == PLAINTEXT
            assert found.version == versions[cid]  # rotation is not a change of the connection
        with pytest.raises(SecretDecryptionError):
            only_old.get_connection("app-a", "cust-1")
    finally:
        for store in (both, only_new, only_old):
            store.close()


# -- migrations ----------------------------------------------------------------------------------
def test_constructor_does_not_migrate(empty_url: str, secret_key: str) -> None:
    store = SqlStore(empty_url, secret_key=secret_key)
    try:
        assert store.current_revision() is None
        assert not store.is_current()
        assert not any(
            name.startswith("crmlink_") for name in inspect(store.engine).get_table_names()
        )
    finally:
        store.close()


def test_upgrade_an_empty_database(empty_url: str, secret_key: str) -> None:
    store = SqlStore(empty_url, secret_key=secret_key)
    try:
        store.upgrade()
        assert store.current_revision() == head_revision() == "0002"
        assert store.is_current()
        store.upgrade()  # idempotent
        assert store.is_current()
        tables = set(inspect(store.engine).get_table_names())
        assert tables >= {table.name for table in metadata.sorted_tables} | {VERSION_TABLE}
        assert "alembic_version" not in tables  # the prefixed name keeps out of a host's way
        # The migrated schema is exactly the one the code declares.
        with store.engine.connect() as db:
            context = MigrationContext.configure(
                db, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            assert compare_metadata(context, metadata) == []
        store.put_connection(secret_connection())
        assert store.connection_version("app-a", "cust-1") is not None
    finally:
        store.close()


def test_upgrade_from_the_first_release_keeps_the_audit_log(
    empty_url: str, secret_key: str
) -> None:
    upgrade(empty_url, "0001")
    store = SqlStore(empty_url, secret_key=secret_key)
    try:
        store.put_connection(secret_connection())
        store.record_invocation(InvocationLog("app-a", "cust-1", "contact", "e", id="kept"))
        assert not store.is_current()
        store.upgrade()
        assert store.is_current()
        assert [e.id for e in store.list_invocations("app-a", "cust-1")] == ["kept"]
        indexes = {i["name"] for i in inspect(store.engine).get_indexes("crmlink_invocations")}
        assert "ix_crmlink_invocations_app_id_connection_id_created_at" not in indexes
        assert "ix_crmlink_invocations_app_id_connection_id_seq" in indexes
    finally:
        store.close()


def test_module_level_upgrade_and_downgrade(empty_url: str, secret_key: str) -> None:
    upgrade(empty_url)
    engine = create_sql_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}
        with engine.begin() as db:
            command.downgrade(alembic_config(db), "base")
        assert not any(t in inspect(engine).get_table_names() for t in metadata.tables)
    finally:
        engine.dispose()
    upgrade(empty_url)
    store = SqlStore(empty_url, secret_key=secret_key)
    try:
        assert store.is_current()
    finally:
        store.close()


def test_concurrent_upgrades(empty_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(5)

    def run() -> None:
        barrier.wait()
        try:
            upgrade(empty_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_sql_engine(empty_url)
    try:
        with engine.connect() as db:
            versions = db.execute(text("SELECT version_num FROM crmlink_alembic_version"))
            assert versions.scalars().all() == [head_revision()]
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    assert MIGRATIONS_DIR.parent.name == "store"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()


# -- SQLite engine settings ----------------------------------------------------------------------
def test_sqlite_pragmas(tmp_path: Path, secret_key: str) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'p.db'}", secret_key=secret_key)
    try:
        with store.engine.connect() as db:
            assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert db.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert db.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.close()


def test_sqlite_in_memory_database(secret_key: str) -> None:
    store = SqlStore("sqlite://", secret_key=secret_key)
    try:
        store.upgrade()
        store.put_connection(secret_connection())
        assert store.connection_version("app-a", "cust-1") is not None
    finally:
        store.close()


def test_unsupported_database(secret_key: str) -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        SqlStore("mysql://localhost/x", secret_key=secret_key)


# -- retention -----------------------------------------------------------------------------------
def test_purge_idempotency_keys(sql_store: SqlStore) -> None:
    assert sql_store.claim_idempotency_key("app-a", "old-1", "fp", HOUR).state == "new"
    assert sql_store.claim_idempotency_key("app-b", "old-2", "fp", HOUR).state == "new"
    sql_store.complete_idempotency_key("app-b", "old-2", {"status": 200})
    time.sleep(0.05)
    assert sql_store.claim_idempotency_key("app-a", "fresh", "fp", HOUR).state == "new"
    assert sql_store.purge_idempotency_keys(timedelta(milliseconds=25)) == 2
    assert sql_store.purge_idempotency_keys(timedelta(milliseconds=25)) == 0
    assert sql_store.claim_idempotency_key("app-a", "old-1", "other", HOUR).state == "new"
    assert sql_store.claim_idempotency_key("app-a", "fresh", "fp", HOUR).state == "running"
    assert sql_store.purge_idempotency_keys(timedelta(0)) == 2


def test_purge_invocations(sql_store: SqlStore) -> None:
    now = datetime.now(UTC)
    for n, age in enumerate([timedelta(days=40), timedelta(days=31), timedelta(days=1)]):
        sql_store.record_invocation(
            InvocationLog("app-a", "cust-1", "contact", "e", id=f"i{n}", created_at=now - age)
        )
    assert sql_store.purge_invocations(timedelta(days=30)) == 2
    assert [e.id for e in sql_store.list_invocations("app-a", "cust-1")] == ["i2"]


# -- robustness ----------------------------------------------------------------------------------
def test_nul_characters_are_not_found_and_not_stored(sql_store: SqlStore) -> None:
    assert sql_store.get_connection("app-a", "x\x00y") is None
    assert sql_store.connection_version("app-a\x00", "x") is None
    assert sql_store.delete_connection("app-a", "x\x00") is False
    assert sql_store.list_connections("app-a", after="\x00") == []
    assert sql_store.list_invocations("app-a", "c", before="\x00") == []
    assert sql_store.verify_api_key("ck_\x00", "cs_x") is None
    with pytest.raises(ValueError, match="NUL"):
        sql_store.put_connection(secret_connection(cid="bad\x00id"))
    sql_store.record_invocation(
        InvocationLog("app-a", "c", "contact", "e", id="n1", error_message="bad\x00byte")
    )
    [entry] = sql_store.list_invocations("app-a", "c")
    assert entry.error_message == "bad\ufffdbyte"


def test_naive_datetimes_are_refused(sql_store: SqlStore) -> None:
    with pytest.raises(Exception, match="naive"):
        sql_store.put_connection(
            StoredConnection("a", "c", "memory", {}, {}, created_at=datetime(2026, 1, 1))
        )


def test_repr_hides_password(backend: str, sql_store: SqlStore) -> None:
    assert "SqlStore(" in repr(sql_store)
    store = SqlStore("postgresql://user:hunter2@127.0.0.1:1/db", secret_key=generate_key())
    assert "hunter2" not in repr(store)
    assert store.dialect == "postgresql"
    assert store.url.startswith("postgresql+psycopg://")


# -- races between separate stores and separate processes ---------------------------------------
def test_twenty_stores_race_for_one_key(sql_store: SqlStore, secret_key: str) -> None:
    """Twenty stores, each with its own connection pool, like twenty server processes."""
    stores = [SqlStore(sql_store.engine.url, secret_key=secret_key) for _ in range(20)]
    results: list[str] = []
    barrier = threading.Barrier(20)
    lock = threading.Lock()

    def claim(store: SqlStore) -> None:
        barrier.wait()
        state = store.claim_idempotency_key("app-a", "race", "fp", HOUR).state
        with lock:
            results.append(state)

    try:
        threads = [threading.Thread(target=claim, args=(store,)) for store in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    assert sorted(results) == ["new"] + ["running"] * 19


def test_processes_race_for_one_key(sql_store: SqlStore, secret_key: str) -> None:
    """Separate processes (spawned: nothing shared but the database) claim one key at once."""
    url = sql_store.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    results = context.Queue()
    processes = [
        context.Process(target=race_claim, args=(url, secret_key, barrier, "proc-race", results))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    states = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(states) == ["new"] + ["running"] * 3
