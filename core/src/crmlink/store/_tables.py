"""The SQL schema of :class:`crmlink.store.sql.SqlStore` (SQLAlchemy Core tables).

This module is the *current* shape of the schema; the Alembic revisions under
``crmlink/store/migrations/versions`` are the history that builds it and never import it.
A test checks that upgrading an empty database to ``head`` yields exactly these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "VERSION_TABLE",
    "UtcDateTime",
    "api_keys",
    "apps",
    "connections",
    "idempotency_keys",
    "invocations",
    "metadata",
]

VERSION_TABLE = "crmlink_alembic_version"
"""Alembic's bookkeeping table, prefixed so crmlink can share a database with other apps."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` in Python, whatever the database keeps.

    PostgreSQL keeps ``timestamptz``. SQLite has no datetime type: SQLAlchemy stores a fixed-width
    ISO string, so the value is normalised to naive UTC before binding (which keeps string order
    equal to time order) and marked UTC again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _ordered_text() -> Any:
    """Text ordered by code point everywhere (``COLLATE "C"`` on PostgreSQL), as Python sorts."""
    return Text().with_variant(Text(collation="C"), "postgresql")


def _json() -> Any:
    """JSON kept as text (``json``, not ``jsonb``, on PostgreSQL): key order is preserved exactly
    and nothing queries inside these documents."""
    return JSON(none_as_null=True)


# A 64-bit autoincrementing key; SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid).
_Sequence = BigInteger().with_variant(Integer(), "sqlite")

apps = Table(
    "crmlink_apps",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "crmlink_api_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column(
        "app_id",
        String(64),
        ForeignKey("crmlink_apps.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("secret_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

connections = Table(
    "crmlink_connections",
    metadata,
    Column("app_id", Text, primary_key=True),
    Column("connection_id", _ordered_text(), primary_key=True),
    Column("connector", Text, nullable=False),
    Column("settings", Text, nullable=False, comment="Fernet token of the settings JSON"),
    Column("definition", _json(), nullable=False),
    Column("mapping", _json(), nullable=True),
    Column("catalog", _json(), nullable=True),
    Column("version", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

invocations = Table(
    "crmlink_invocations",
    metadata,
    Column("seq", _Sequence, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("app_id", Text, nullable=False),
    Column("connection_id", Text, nullable=False),
    Column("object", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("action", String(32), nullable=True),
    Column("record_id", Text, nullable=True),
    Column("error_type", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("crm_calls", Integer, nullable=False),
    Column("idempotency_key", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Listing: newest first (insertion order) within one connection.
    Index(None, "app_id", "connection_id", "seq"),
    # Retention purges. (No other index: each one costs every audit row's insert.)
    Index(None, "created_at"),
)

idempotency_keys = Table(
    "crmlink_idempotency_keys",
    metadata,
    Column("app_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("fingerprint", Text, nullable=False),
    Column("response", _json(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)
