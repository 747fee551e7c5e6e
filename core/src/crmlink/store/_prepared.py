"""Statements of the per-request hot path, compiled once and run on a raw DB-API cursor.

Every invocation checks an API key, reads its connection's version and appends an audit row.
Through SQLAlchemy Core each of these cost 150-250 µs of Python (statement construction, cache
key, execution context, result proxy) around a 5 µs SQLite query, which made the database layer
most of the server's time per request. Here the statement is still written in Core, against the
same tables, and compiled for the engine's dialect once; running it is one DB-API ``execute``
with the bind processors of its column types, so values are stored exactly as Core stores them.
Everything else in the store stays on Core.

Connections come from :class:`KeptConnections` for a SQLite file and from SQLAlchemy's pool
otherwise (see there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["ConnectionSource", "KeptConnections", "PooledConnections", "PreparedStatement"]

_SQLITE_MAX_VARIABLES = 999
"""Parameters per statement that every SQLite build accepts (newer ones take 32766)."""


class ConnectionSource(Protocol):
    """Lends DB-API connections: each is used by one thread until it is given back."""

    def take(self) -> Any:
        """A connection for the caller's sole use."""
        ...

    def give(self, connection: Any, *, failed: bool = False) -> None:
        """Take ``connection`` back; ``failed`` when a statement on it raised."""
        ...

    def close(self) -> None:
        """Close what is kept idle (the source stays usable)."""
        ...


class PooledConnections:
    """Connections checked out of the engine's own pool (with its pre-ping and invalidation).

    For PostgreSQL, where a connection can go stale and a network round trip dwarfs the
    pool's bookkeeping, and for an in-memory SQLite database, which lives in the pool's one
    connection.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def take(self) -> Any:
        return self._engine.raw_connection()

    def give(self, connection: Any, *, failed: bool = False) -> None:
        connection.close()  # back to the pool, which rolls back (or discards a broken one)

    def close(self) -> None:
        """Nothing of its own to close: the engine's pool is disposed with the engine."""


class KeptConnections:
    """sqlite3 connections to a SQLite file kept idle in a list, outside SQLAlchemy's pool.

    Taking and giving back is a list pop and append (atomic under the GIL); a checkout from
    SQLAlchemy's pool costs about 30 µs of Python, and the hot path makes three per request.
    A SQLite file connection cannot go stale, so there is nothing to ping. Connections are
    opened through the engine (so its ``connect`` hooks set the pragmas) and detached from its
    pool; one on which a statement raised is closed (rolling back what it left open) rather
    than kept. At most ``keep`` stay idle.
    """

    def __init__(self, engine: Engine, keep: int = 32) -> None:
        self._engine = engine
        self._keep = keep
        self._idle: list[Any] = []

    def take(self) -> Any:
        try:
            return self._idle.pop()
        except IndexError:
            proxy = self._engine.raw_connection()
            proxy.detach()  # the pool forgets it: from now on it is ours to close
            return proxy.dbapi_connection

    def give(self, connection: Any, *, failed: bool = False) -> None:
        if failed or len(self._idle) >= self._keep:
            connection.close()
        else:
            self._idle.append(connection)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


class PreparedStatement:
    """A Core statement compiled once for ``engine``'s dialect, run through the raw DB-API.

    ``params`` are given by bind parameter name, as to ``Connection.execute``; they are passed
    through the column types' bind processors and laid out for the driver's paramstyle
    (positional for sqlite3, named for psycopg). Result rows are the driver's tuples: select
    only columns whose raw driver value is what the caller wants (text, integers, NULL tests).
    """

    def __init__(
        self, engine: Engine, statement: ClauseElement, connections: ConnectionSource
    ) -> None:
        dialect = engine.dialect
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        self._connections = connections
        self._positions: Sequence[str] | None = (
            list(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        self._processors = processors
        self._dialect = dialect
        # Rows per multi-row INSERT on SQLite (see insert_many).
        self._rows_per_statement = max(1, _SQLITE_MAX_VARIABLES // len(self._positions or (1,)))
        self._driver_error: type[Exception] = dialect.loaded_dbapi.Error
        self._multi_row: dict[int, str] = {}

    def _parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processors = self._processors
        if processors:
            params = {
                name: processors[name](value) if name in processors else value
                for name, value in params.items()
            }
        if self._positions is None:
            return dict(params)
        return [params[name] for name in self._positions]

    def first(self, **params: Any) -> Sequence[Any] | None:
        """The first row of a query, as the driver returns it, or ``None``.

        On crmlink's SQLite connections (autocommit) no transaction is opened: one SELECT is
        atomic on its own. On PostgreSQL the pool rolls the read's transaction back on return.
        """
        source = self._connections
        connection = source.take()
        try:
            cursor = connection.cursor()
            cursor.execute(self.sql, self._parameters(params))
            row: Sequence[Any] | None = cursor.fetchone()
            cursor.close()
        except self._driver_error as exc:
            source.give(connection, failed=True)
            raise self._translated(exc) from exc
        except BaseException:
            source.give(connection, failed=True)
            raise
        source.give(connection)
        return row

    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run this ``INSERT`` for every row, all in one transaction, and commit it.

        SQLite gets multi-row ``VALUES`` statements: one statement (an implicit transaction)
        for up to ``_SQLITE_MAX_VARIABLES`` parameters, so a batch of rows costs one write of
        each page it touches and one trip through the driver. PostgreSQL gets psycopg's
        ``executemany``, which sends every row in one pipelined round trip.
        """
        if not rows:
            return
        source = self._connections
        connection = source.take()
        try:
            cursor = connection.cursor()
            if self._dialect.name != "sqlite":
                cursor.executemany(self.sql, [self._parameters(row) for row in rows])
                connection.commit()
            else:
                step = self._rows_per_statement
                chunks = [rows[i : i + step] for i in range(0, len(rows), step)]
                if len(chunks) > 1:
                    cursor.execute("BEGIN IMMEDIATE")
                for chunk in chunks:
                    values: list[Any] = []
                    for row in chunk:
                        values.extend(self._parameters(row))
                    cursor.execute(self._rows_sql(len(chunk)), values)
                if len(chunks) > 1:
                    cursor.execute("COMMIT")
            cursor.close()
        except self._driver_error as exc:
            source.give(connection, failed=True)  # closing it rolls back what was left open
            raise self._translated(exc) from exc
        except BaseException:
            source.give(connection, failed=True)
            raise
        source.give(connection)

    def _translated(self, exc: Exception) -> StatementError:
        """A driver error as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...), as
        the Core paths of the store raise them, with the parameters kept out of the message."""
        return DBAPIError.instance(
            self.sql,
            None,
            exc,
            self._driver_error,
            hide_parameters=True,
            dialect=self._dialect,
        )

    def _rows_sql(self, count: int) -> str:
        sql = self._multi_row.get(count)
        if sql is None:
            head, values, group = self.sql.rpartition(" VALUES ")
            if not values:
                raise TypeError("insert_many needs a single-row INSERT ... VALUES statement")
            sql = self._multi_row[count] = head + values + ", ".join([group] * count)
        return sql
