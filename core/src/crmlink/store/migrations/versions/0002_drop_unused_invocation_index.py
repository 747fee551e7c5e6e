"""Drop the audit log's (app_id, connection_id, created_at) index: no query uses it.

Listing pages by ``seq`` and purging by ``created_at`` have their own indexes. Every audit row
paid for this one on insert (about a fifth of the insert's cost on SQLite).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_crmlink_invocations_app_id_connection_id_created_at"


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="crmlink_invocations")


def downgrade() -> None:
    op.create_index(_INDEX, "crmlink_invocations", ["app_id", "connection_id", "created_at"])
