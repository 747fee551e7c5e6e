"""Server configuration, from arguments or ``CRMLINK_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_DATABASE_URL", "ServerSettings"]

DEFAULT_DATABASE_URL = "sqlite:///crmlink.db"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class ServerSettings:
    """Everything the server needs to start. ``from_env`` reads the ``CRMLINK_*`` variables."""

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = 1_000_000
    idempotency_ttl: timedelta = timedelta(hours=24)
    link_token_ttl: timedelta = timedelta(hours=1)
    secret_key: str | None = field(default=None, repr=False)
    """Fernet key(s), comma-separated; ``None`` → a key file next to a SQLite database."""

    @classmethod
    def from_env(cls, database_url: str | None = None) -> ServerSettings:
        return cls(
            database_url=database_url
            or os.environ.get("CRMLINK_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            max_body_bytes=_int_env("CRMLINK_MAX_BODY_BYTES", 1_000_000),
            idempotency_ttl=timedelta(hours=_int_env("CRMLINK_IDEMPOTENCY_TTL_HOURS", 24)),
            link_token_ttl=timedelta(seconds=_int_env("CRMLINK_LINK_TOKEN_TTL_SECONDS", 3600)),
            secret_key=os.environ.get("CRMLINK_SECRET_KEY") or None,
        )

    @property
    def key_file(self) -> Path | None:
        """Where the embedded default keeps its encryption key: beside the SQLite file.

        ``None`` for other databases: servers sharing one database must share one key, so it
        has to come from ``CRMLINK_SECRET_KEY`` rather than from a file on one machine.
        """
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).resolve().with_suffix(".key")
        return None

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"
