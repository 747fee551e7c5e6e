"""Alembic environment of crmlink's SQL store.

Run programmatically by :func:`crmlink.store.sql.upgrade` (no ``alembic.ini``): the caller puts an
open SQLAlchemy ``Connection`` in ``config.attributes["connection"]``. Developers may also run
the ``alembic`` command with ``-x url=...`` or ``sqlalchemy.url`` set. Revisions live in
``versions/`` and never import the current table definitions, except for autogenerate's
comparison target below.
"""

from __future__ import annotations

from alembic import context
from crmlink.store._tables import VERSION_TABLE, metadata
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database: pass -x url=... or set sqlalchemy.url")
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as own:
            _configure(own)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
