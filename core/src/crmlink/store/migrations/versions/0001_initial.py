"""Initial schema: apps, API keys, connections, invocations, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON(none_as_null=True)


def _ordered_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "crmlink_apps",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crmlink_apps"),
        sa.UniqueConstraint("name", name="uq_crmlink_apps_name"),
    )
    op.create_table(
        "crmlink_api_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("revoked_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_crmlink_api_keys"),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["crmlink_apps.id"],
            name="fk_crmlink_api_keys_app_id_crmlink_apps",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_crmlink_api_keys_app_id", "crmlink_api_keys", ["app_id"])
    op.create_table(
        "crmlink_connections",
        sa.Column("app_id", sa.Text(), nullable=False),
        sa.Column("connection_id", _ordered_text(), nullable=False),
        sa.Column("connector", sa.Text(), nullable=False),
        sa.Column(
            "settings", sa.Text(), nullable=False, comment="Fernet token of the settings JSON"
        ),
        sa.Column("definition", _json(), nullable=False),
        sa.Column("mapping", _json(), nullable=True),
        sa.Column("catalog", _json(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "connection_id", name="pk_crmlink_connections"),
    )
    op.create_table(
        "crmlink_invocations",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("app_id", sa.Text(), nullable=False),
        sa.Column("connection_id", sa.Text(), nullable=False),
        sa.Column("object", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=True),
        sa.Column("record_id", sa.Text(), nullable=True),
        sa.Column("error_type", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("crm_calls", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_crmlink_invocations"),
        sa.UniqueConstraint("id", name="uq_crmlink_invocations_id"),
    )
    op.create_index(
        "ix_crmlink_invocations_app_id_connection_id_seq",
        "crmlink_invocations",
        ["app_id", "connection_id", "seq"],
    )
    op.create_index(
        "ix_crmlink_invocations_app_id_connection_id_created_at",
        "crmlink_invocations",
        ["app_id", "connection_id", "created_at"],
    )
    op.create_index("ix_crmlink_invocations_created_at", "crmlink_invocations", ["created_at"])
    op.create_table(
        "crmlink_idempotency_keys",
        sa.Column("app_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("response", _json(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "key", name="pk_crmlink_idempotency_keys"),
    )
    op.create_index(
        "ix_crmlink_idempotency_keys_created_at", "crmlink_idempotency_keys", ["created_at"]
    )


def downgrade() -> None:
    op.drop_table("crmlink_idempotency_keys")
    op.drop_table("crmlink_invocations")
    op.drop_table("crmlink_connections")
    op.drop_table("crmlink_api_keys")
    op.drop_table("crmlink_apps")
