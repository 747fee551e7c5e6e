"""The durable store: SQLite or PostgreSQL through SQLAlchemy 2 (Core), schema by Alembic.

:class:`SqlStore` implements :class:`crmlink.store.base.Store` with exactly the behaviour of
:class:`crmlink.store.memory.MemoryStore` (a shared test suite runs against both), and adds what
a server needs: apps and API keys, encryption at rest of connection settings, retention purges,
key rotation and migrations.

Concurrency. Every method is one short transaction, so any number of threads and processes
(servers behind a load balancer) may share a database:

* PostgreSQL runs at READ COMMITTED; the writes that must not race are single statements
  (``version = version + 1``), inserts guarded by a primary key (caught in a savepoint), or
  compare-and-set updates.
* SQLite runs in WAL mode (readers never block the writer) with a busy timeout; write
  transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue on the lock instead of
  failing on a read-to-write upgrade. SQLAlchemy's pool hands each thread its own connection.

Constructing a store does not touch the schema: call :meth:`SqlStore.upgrade` (or
:func:`upgrade`) to migrate, which the server does at start unless told not to.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Row,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from crmlink import apikeys
from crmlink.invocations import InvocationLog
from crmlink.secrets import SecretBox
from crmlink.store._prepared import (
    ConnectionSource,
    KeptConnections,
    PooledConnections,
    PreparedStatement,
)
from crmlink.store._tables import (
    VERSION_TABLE,
    api_keys,
    apps,
    connections,
    idempotency_keys,
    invocations,
)
from crmlink.store.base import IdempotencyClaim, StoredConnection, first_version
from crmlink.store.group_commit import GroupCommit

if TYPE_CHECKING:
    from alembic.config import Config

    from crmlink.store.base import Store

__all__ = [
    "MIGRATIONS_DIR",
    "SqlStore",
    "alembic_config",
    "create_sql_engine",
    "head_revision",
    "upgrade",
]

log = logging.getLogger("crmlink.store.sql")

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
"""Alembic's script directory, shipped inside the package."""

SQLITE_BUSY_TIMEOUT_S: Final = 30.0
"""How long a SQLite writer waits for the lock before giving up ("database is locked")."""

_MIGRATION_LOCK: Final = 0x63726D6C696E6B  # "crmlink": PostgreSQL advisory lock for upgrades
_CLAIM_ATTEMPTS: Final = 8
_WRITE: Final = "crmlink_write"


_AUDIT_COLUMNS: Final = (
    "id",
    "app_id",
    "connection_id",
    "object",
    "event",
    "status",
    "action",
    "record_id",
    "error_type",
    "error_message",
    "duration_ms",
    "crm_calls",
    "idempotency_key",
    "created_at",
)


def _now() -> datetime:
    return datetime.now(UTC)


def _normalise_url(url: str | URL) -> URL:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver crmlink ships with)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory_sqlite(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def create_sql_engine(url: str | URL, **options: Any) -> Engine:
    """A SQLAlchemy engine set up for crmlink: thread-safe pooling, SQLite pragmas.

    SQLite files get a connection pool shared by threads (``check_same_thread=False``; each
    connection is used by one thread at a time), WAL journaling, ``synchronous=NORMAL``, a busy
    timeout, enforced foreign keys, and real transactions (``BEGIN``; ``BEGIN IMMEDIATE`` for
    writes) instead of the sqlite3 module's implicit ones, so savepoints work. An in-memory
    SQLite database lives in one connection shared by all users: for tests, one thread at a time.
    PostgreSQL connections are checked before use (``pool_pre_ping``). SQL parameters are kept
    out of log lines and exception messages (``hide_parameters``).
    """
    parsed = _normalise_url(url)
    backend = parsed.get_backend_name()
    options.setdefault("hide_parameters", True)
    if backend == "sqlite":
        memory = _is_memory_sqlite(parsed)
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
        connect_args.update(options.pop("connect_args", {}))
        if memory:
            options.setdefault("poolclass", StaticPool)
        else:
            options.setdefault("pool_size", 10)
            options.setdefault("max_overflow", 20)
            options.setdefault("pool_timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(parsed, connect_args=connect_args, **options)
        _install_sqlite_hooks(engine, wal=not memory)
        return engine
    if backend == "postgresql":
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
        return create_engine(parsed, **options)
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://")


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    busy_ms = int(SQLITE_BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it would not BEGIN before
        # SELECT or SAVEPOINT); the "begin" hook below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if wal:
                _use_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE, False) else "BEGIN")


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL journaling (persistent: a no-op once any connection has done it).

    The switch needs the file to itself and, unlike other statements, answers "database is
    locked" without waiting on the busy timeout while another connection is busy with it (as
    when several servers open one new database at once), so it is retried here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for crmlink's migrations, built in code (no ``alembic.ini``).

    With ``connection``, the migrations run on it (inside its transaction).
    """
    from alembic.config import Config  # imported when needed: most processes never migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def _upgrade_engine(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Servers starting together migrate one at a time; the others then find the
                # schema current and do nothing.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _MIGRATION_LOCK}
                )
            command.upgrade(alembic_config(connection), revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (``alembic upgrade head``)."""
    engine = create_sql_engine(url)
    try:
        _upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration shipped with this version of crmlink."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _rowcount(result: CursorResult[Any]) -> int:
    return int(result.rowcount)


class SqlStore:
    """A :class:`~crmlink.store.base.Store` in SQLite or PostgreSQL, plus apps and API keys.

    ``url`` is a SQLAlchemy URL (``sqlite:///crmlink.db``,
    ``postgresql+psycopg://user:pass@host/db``); ``secret_key`` one or more comma-separated
    Fernet keys (see :mod:`crmlink.secrets`) encrypting connection settings at rest.
    The schema is not created here: call :meth:`upgrade` first.
    """

    def __init__(self, url: str | URL, *, secret_key: str | bytes, **engine_options: Any) -> None:
        self._box = SecretBox(secret_key)
        self._engine = create_sql_engine(url, **engine_options)
        self._sqlite = self._engine.dialect.name == "sqlite"
        # SQLite takes one writer at a time. Threads of this process queue here, in order,
        # instead of in SQLite's busy handler, whose sleep-and-retry backoff turns contention
        # into latency spikes of hundreds of milliseconds. Other processes still meet the
        # busy timeout.
        self._write_lock = threading.Lock() if self._sqlite else contextlib.nullcontext()
        self._audit: GroupCommit[InvocationLog] = GroupCommit(self._insert_invocations)
        # The per-request statements, compiled once, on their own connections (see
        # crmlink.store._prepared).
        self._direct: ConnectionSource = (
            KeptConnections(self._engine)
            if self._sqlite and not _is_memory_sqlite(self._engine.url)
            else PooledConnections(self._engine)
        )
        self._key_lookup = PreparedStatement(
            self._engine,
            select(api_keys.c.app_id, api_keys.c.secret_hash, api_keys.c.revoked_at).where(
                api_keys.c.key_id == bindparam("key_id")
            ),
            self._direct,
        )
        # The invoke routes' one read: the key and the version of the connection it names.
        self._invocation_lookup = PreparedStatement(
            self._engine,
            select(
                api_keys.c.app_id,
                api_keys.c.secret_hash,
                api_keys.c.revoked_at,
                connections.c.version,
            )
            .select_from(
                api_keys.outerjoin(
                    connections,
                    and_(
                        connections.c.app_id == api_keys.c.app_id,
                        connections.c.connection_id == bindparam("connection_id"),
                    ),
                )
            )
            .where(api_keys.c.key_id == bindparam("key_id")),
            self._direct,
        )
        self._version_lookup = PreparedStatement(
            self._engine,
            select(connections.c.version).where(
                connections.c.app_id == bindparam("app_id"),
                connections.c.connection_id == bindparam("connection_id"),
            ),
            self._direct,
        )
        self._audit_insert = PreparedStatement(
            self._engine,
            insert(invocations).values(
                {name: bindparam(name, type_=invocations.c[name].type) for name in _AUDIT_COLUMNS}
            ),
            self._direct,
        )

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close the pooled connections (the store stays usable: the pool refills on demand)."""
        self._direct.close()
        self._engine.dispose()

    # -- schema ----------------------------------------------------------------------------------
    def upgrade(self, revision: str = "head") -> None:
        """Run the migrations up to ``revision`` (``alembic upgrade head``). Idempotent."""
        _upgrade_engine(self._engine, revision)

    def current_revision(self) -> str | None:
        """The schema's migration revision; ``None`` for a database never migrated."""
        from alembic.runtime.migration import MigrationContext

        with self._engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()

    def is_current(self) -> bool:
        """Whether the schema is at the newest shipped migration."""
        return self.current_revision() == head_revision()

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_lock, self._engine.connect() as connection:
            if self._sqlite:
                connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection

    # -- connections -----------------------------------------------------------------------------
    def _connection_from_row(self, row: Row[Any]) -> StoredConnection:
        settings = self._box.decrypt_json(row.settings)
        return StoredConnection(
            app_id=row.app_id,
            connection_id=row.connection_id,
            connector=row.connector,
            settings=settings,
            definition=row.definition,
            mapping=row.mapping,
            catalog=row.catalog,
            version=int(row.version),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def get_connection(self, app_id: str, connection_id: str) -> StoredConnection | None:
        if _unstorable(app_id, connection_id):
            return None
        query = select(connections).where(
            connections.c.app_id == app_id, connections.c.connection_id == connection_id
        )
        with self._read() as db:
            row = db.execute(query).first()
        return self._connection_from_row(row) if row is not None else None

    def connection_version(self, app_id: str, connection_id: str) -> int | None:
        """One indexed single-column lookup by primary key: cheap enough for every invocation."""
        if _unstorable(app_id, connection_id):
            return None
        row = self._version_lookup.first(app_id=app_id, connection_id=connection_id)
        return int(row[0]) if row is not None else None

    def put_connection(self, connection: StoredConnection) -> StoredConnection:
        _check_storable(connection.app_id, connection.connection_id)
        now = _now()
        values: dict[str, Any] = {
            "connector": connection.connector,
            "settings": self._box.encrypt_json(connection.settings),
            "definition": connection.definition,
            "mapping": connection.mapping,
            "catalog": connection.catalog,
            "updated_at": now,
        }
        key = and_(
            connections.c.app_id == connection.app_id,
            connections.c.connection_id == connection.connection_id,
        )
        bump = (
            update(connections)
            .where(key)
            .values(**values, version=connections.c.version + 1)
            .returning(connections.c.version, connections.c.created_at)
        )
        first = first_version()
        with self._write() as db:
            row = db.execute(bump).first()
            if row is None:
                try:
                    with db.begin_nested():
                        db.execute(
                            insert(connections).values(
                                app_id=connection.app_id,
                                connection_id=connection.connection_id,
                                version=first,
                                created_at=connection.created_at,
                                **values,
                            )
                        )
                except IntegrityError:
                    row = db.execute(bump).one()  # created concurrently: this write comes second
        if row is None:
            version, created_at = first, connection.created_at
        else:
            version, created_at = int(row.version), row.created_at
        return replace(connection, version=version, created_at=created_at, updated_at=now)

    def delete_connection(self, app_id: str, connection_id: str) -> bool:
        """Delete a connection and its invocation log."""
        if _unstorable(app_id, connection_id):
            return False
        with self._write() as db:
            db.execute(
                delete(invocations).where(
                    invocations.c.app_id == app_id, invocations.c.connection_id == connection_id
                )
            )
            result = db.execute(
                delete(connections).where(
                    connections.c.app_id == app_id, connections.c.connection_id == connection_id
                )
            )
        return _rowcount(result) > 0

    def list_connections(
        self, app_id: str, *, limit: int = 50, after: str | None = None
    ) -> list[StoredConnection]:
        """Connections ordered by id (code point order on every database), after ``after``."""
        _check_limit(limit)
        if _unstorable(app_id, after or ""):
            return []
        query = select(connections).where(connections.c.app_id == app_id)
        if after is not None:
            query = query.where(connections.c.connection_id > after)
        query = query.order_by(connections.c.connection_id).limit(limit)
        with self._read() as db:
            rows = db.execute(query).all()
        return [self._connection_from_row(row) for row in rows]

    def rotate_secrets(self) -> int:
        """Re-encrypt with the first key every settings value written with an older key.

        Returns how many were re-encrypted. Safe to run while servers are serving: each row is
        rewritten only if it did not change meanwhile.
        """
        query = select(
            connections.c.app_id, connections.c.connection_id, connections.c.settings
        ).order_by(connections.c.app_id, connections.c.connection_id)
        with self._read() as db:
            rows = db.execute(query).all()
        rotated = 0
        for row in rows:
            if self._box.is_current(row.settings):
                continue
            with self._write() as db:
                result = db.execute(
                    update(connections)
                    .where(
                        connections.c.app_id == row.app_id,
                        connections.c.connection_id == row.connection_id,
                        connections.c.settings == row.settings,
                    )
                    .values(settings=self._box.rotate(row.settings))
                )
            rotated += _rowcount(result)
        return rotated

    # -- invocations -----------------------------------------------------------------------------
    def record_invocation(self, log: InvocationLog) -> None:
        """Append to the audit log; returns once the row is committed (group commit)."""
        self._audit.add(log)

    def _insert_invocations(self, logs: Sequence[InvocationLog]) -> None:
        rows = [
            {
                "id": log.id,
                "app_id": log.app_id,
                "connection_id": log.connection_id,
                "object": _text(log.object),
                "event": _text(log.event),
                "status": log.status,
                "action": log.action,
                "record_id": _text(log.record_id),
                "error_type": log.error_type,
                "error_message": _text(log.error_message),
                "duration_ms": log.duration_ms,
                "crm_calls": log.crm_calls,
                "idempotency_key": log.idempotency_key,
                "created_at": log.created_at,
            }
            for log in logs
        ]
        with self._write_lock:
            self._audit_insert.insert_many(rows)

    def list_invocations(
        self,
        app_id: str,
        connection_id: str,
        *,
        event: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[InvocationLog]:
        """Newest first (in recording order); ``before`` is the id of the previous page's last
        entry, and an id unknown to this connection yields an empty page."""
        _check_limit(limit)
        if _unstorable(app_id, connection_id, before or "", event or "", status or ""):
            return []
        mine = and_(invocations.c.app_id == app_id, invocations.c.connection_id == connection_id)
        query = select(invocations).where(mine)
        if before is not None:
            cursor = select(invocations.c.seq).where(mine, invocations.c.id == before)
            query = query.where(invocations.c.seq < cursor.scalar_subquery())
        if event is not None:
            query = query.where(invocations.c.event == event)
        if status is not None:
            query = query.where(invocations.c.status == status)
        query = query.order_by(invocations.c.seq.desc()).limit(limit)
        with self._read() as db:
            rows = db.execute(query).all()
        return [
            InvocationLog(
                app_id=row.app_id,
                connection_id=row.connection_id,
                object=row.object,
                event=row.event,
                status=row.status,
                action=row.action,
                record_id=row.record_id,
                error_type=row.error_type,
                error_message=row.error_message,
                duration_ms=float(row.duration_ms),
                crm_calls=int(row.crm_calls),
                idempotency_key=row.idempotency_key,
                id=row.id,
                created_at=row.created_at,
            )
            for row in rows
        ]

    def purge_invocations(self, older_than: timedelta) -> int:
        """Delete invocation log entries recorded more than ``older_than`` ago; how many."""
        cutoff = _now() - older_than
        with self._write() as db:
            result = db.execute(delete(invocations).where(invocations.c.created_at < cutoff))
        return _rowcount(result)

    # -- idempotency -----------------------------------------------------------------------------
    def claim_idempotency_key(
        self, app_id: str, key: str, fingerprint: str, ttl: timedelta
    ) -> IdempotencyClaim:
        """Claim ``key`` for a request with ``fingerprint``; race-free across processes.

        The insert is guarded by the primary key ``(app_id, key)``: exactly one concurrent
        claimant inserts (``new``); the others see the unique violation inside a savepoint and
        read the row that won. A key older than ``ttl`` is taken over with a compare-and-set on
        its ``created_at``, which again lets exactly one claimant win.
        """
        _check_storable(app_id, key)
        now = _now()
        pk = and_(idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key)
        for _ in range(_CLAIM_ATTEMPTS):
            with self._write() as db:
                try:
                    with db.begin_nested():
                        db.execute(
                            insert(idempotency_keys).values(
                                app_id=app_id,
                                key=key,
                                fingerprint=fingerprint,
                                response=None,
                                created_at=now,
                            )
                        )
                except IntegrityError:
                    pass
                else:
                    return IdempotencyClaim("new")
                found = db.execute(
                    select(
                        idempotency_keys.c.fingerprint,
                        idempotency_keys.c.response,
                        idempotency_keys.c.created_at,
                    ).where(pk)
                ).first()
                if found is None:
                    continue  # released between our insert and our read: try again
                if found.created_at + ttl < now:
                    taken = db.execute(
                        update(idempotency_keys)
                        .where(pk, idempotency_keys.c.created_at == found.created_at)
                        .values(fingerprint=fingerprint, response=None, created_at=now)
                    )
                    if _rowcount(taken) == 1:
                        return IdempotencyClaim("new")
                    continue  # another claimant took the expired key over first
                if found.fingerprint != fingerprint:
                    return IdempotencyClaim("conflict")
                if found.response is None:
                    return IdempotencyClaim("running")
                return IdempotencyClaim("replay", found.response)
        # The key kept changing under us: somebody else is working on it.
        return IdempotencyClaim("running")

    def complete_idempotency_key(self, app_id: str, key: str, response: dict[str, Any]) -> None:
        """Store the answer of the request that claimed ``key``: later claims replay it.

        If the key is gone (released, or purged meanwhile) there is nothing to complete and this
        does nothing, where :class:`MemoryStore` raises ``KeyError``: a durable store must not
        fail the request whose work is already done.
        """
        if _unstorable(app_id, key):
            return
        with self._write() as db:
            db.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key)
                .values(response=response)
            )

    def release_idempotency_key(self, app_id: str, key: str) -> None:
        """Forget ``key`` (its request failed in a way worth retrying)."""
        if _unstorable(app_id, key):
            return
        with self._write() as db:
            db.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key
                )
            )

    def purge_idempotency_keys(self, older_than: timedelta) -> int:
        """Delete idempotency keys claimed more than ``older_than`` ago; how many."""
        cutoff = _now() - older_than
        with self._write() as db:
            result = db.execute(
                delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
            )
        return _rowcount(result)

    # -- apps and API keys -----------------------------------------------------------------------
    def app_by_name(self, name: str) -> str | None:
        """The id of the app called ``name``, if there is one."""
        if _unstorable(name):
            return None
        with self._read() as db:
            found = db.execute(select(apps.c.id).where(apps.c.name == name)).scalar_one_or_none()
        return str(found) if found is not None else None

    def ensure_app(self, name: str) -> str:
        """The id of the app called ``name``, created if needed (safe to race)."""
        found = self.app_by_name(name)
        if found is not None:
            return found
        _check_storable(name)
        app_id = "app_" + secrets.token_hex(8)
        with self._write() as db:
            try:
                with db.begin_nested():
                    db.execute(insert(apps).values(id=app_id, name=name, created_at=_now()))
            except IntegrityError:
                existing = db.execute(select(apps.c.id).where(apps.c.name == name)).scalar_one()
                return str(existing)
        return app_id

    def list_apps(self) -> list[dict[str, Any]]:
        """Every app: ``id``, ``name``, ``created_at``; by name."""
        with self._read() as db:
            rows = db.execute(select(apps).order_by(apps.c.name)).all()
        return [{"id": row.id, "name": row.name, "created_at": row.created_at} for row in rows]

    def create_api_key(self, app_id: str) -> tuple[str, str]:
        """A new API key for the app: ``(key_id, secret)``. Only a hash of the secret is kept,
        so this is the one time the secret is seen. An app may hold several keys (rotation)."""
        key_id = apikeys.generate_key_id()
        secret = apikeys.generate_secret()
        with self._write() as db:
            exists = db.execute(select(apps.c.id).where(apps.c.id == app_id)).first()
            if exists is None:
                raise LookupError(f"no app with id {app_id!r}")
            db.execute(
                insert(api_keys).values(
                    key_id=key_id,
                    app_id=app_id,
                    secret_hash=apikeys.hash_secret(key_id, secret),
                    created_at=_now(),
                    revoked_at=None,
                )
            )
        return key_id, secret

    def verify_api_key(self, key_id: str, secret: str) -> str | None:
        """The app id the key belongs to, or ``None`` (unknown key id, wrong secret, revoked).

        The work is the same whatever the outcome: one lookup, one hash, one constant-time
        comparison (against a throwaway hash when the key id is unknown).
        """
        row = self._key_lookup.first(key_id=_key_lookup_id(key_id))
        return _verified_app(key_id, secret, row)

    def authorize_invocation(
        self, key_id: str, secret: str, connection_id: str
    ) -> tuple[str | None, int | None]:
        """:meth:`verify_api_key` and the version of the key's app's connection, in one query.

        ``(None, None)`` for a key that does not verify; ``(app_id, None)`` when the app has no
        such connection. Every invocation over HTTP starts here: one database round trip
        instead of two (:meth:`connection_version` after :meth:`verify_api_key`).
        """
        if _unstorable(connection_id):
            return self.verify_api_key(key_id, secret), None
        row = self._invocation_lookup.first(
            key_id=_key_lookup_id(key_id), connection_id=connection_id
        )
        app_id = _verified_app(key_id, secret, row)
        if app_id is None or row is None or row[3] is None:
            return app_id, None
        return app_id, int(row[3])

    def revoke_api_key(self, key_id: str, *, app_id: str | None = None) -> bool:
        """Revoke a key, effective for the next request. ``False`` if it does not exist (for
        ``app_id``, when given) or was already revoked."""
        if _unstorable(key_id):
            return False
        query = update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        if app_id is not None:
            query = query.where(api_keys.c.app_id == app_id)
        with self._write() as db:
            result = db.execute(query.values(revoked_at=_now()))
        return _rowcount(result) > 0

    def list_api_keys(self, app_id: str) -> list[dict[str, Any]]:
        """The app's keys, oldest first: ``key_id``, ``created_at``, ``revoked_at`` (never the
        secret or its hash)."""
        query = (
            select(api_keys.c.key_id, api_keys.c.created_at, api_keys.c.revoked_at)
            .where(api_keys.c.app_id == app_id)
            .order_by(api_keys.c.created_at, api_keys.c.key_id)
        )
        with self._read() as db:
            rows = db.execute(query).all()
        return [
            {"key_id": row.key_id, "created_at": row.created_at, "revoked_at": row.revoked_at}
            for row in rows
        ]


def _key_lookup_id(key_id: str) -> str:
    """The key id to look up: one that cannot be stored is looked up as "" (found nowhere, at the
    same cost as any other unknown id)."""
    return key_id if not _unstorable(key_id) and len(key_id) <= 64 else ""


def _verified_app(key_id: str, secret: str, row: Sequence[Any] | None) -> str | None:
    """The app id of a key row ``(app_id, secret_hash, revoked_at, ...)`` if ``secret`` matches it
    and it is not revoked. Hashes and compares once whatever the row, even when there is none."""
    stored = str(row[1]) if row is not None else apikeys.unusable_hash()
    matches = apikeys.verify_secret(key_id, secret, stored)
    if row is None or row[2] is not None or not matches:
        return None
    return str(row[0])


def _unstorable(*values: str) -> bool:
    """Whether a value cannot be stored (PostgreSQL text refuses NUL), so cannot be found."""
    return any("\x00" in value for value in values)


def _check_storable(*values: str) -> None:
    if _unstorable(*values):
        raise ValueError("identifiers must not contain NUL characters")


def _check_limit(limit: int) -> None:
    if limit < 0:
        raise ValueError("limit must not be negative")


def _text(value: str | None) -> str | None:
    """Free text (a CRM's error message) made storable: NUL becomes U+FFFD."""
    return value.replace("\x00", "\ufffd") if value is not None else None


if TYPE_CHECKING:

    def _implements_the_protocol(store: SqlStore) -> Store:
        return store  # mypy checks SqlStore against the Store protocol here
