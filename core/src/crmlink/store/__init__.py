"""Storage of connections, invocation logs and idempotency keys.

:class:`~crmlink.store.base.Store` is the protocol the engine needs; :class:`MemoryStore` keeps
everything in the process (the in-process default); :class:`crmlink.store.sql.SqlStore` is the
durable one (SQLite or PostgreSQL) the server uses.
"""

from crmlink.store.base import IdempotencyClaim, Store, StoredConnection
from crmlink.store.memory import MemoryStore

__all__ = ["IdempotencyClaim", "MemoryStore", "Store", "StoredConnection"]
