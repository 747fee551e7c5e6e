"""The whole engine pipeline on the SQL store: the connector conformance suite, with the memory
CRM, run over SQLite and PostgreSQL instead of MemoryStore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from crmlink.engine import Engine
from crmlink.testing import ConnectorConformance, CrmControl
from crmlink_memory import memory_crm
from crmlink_memory.testing import MEMORY_PROFILE, MemoryControl

from tests.store._store_helpers import backends, open_sql_store

INSTANCE = "sql-store-conformance"


class TestEngineOnSqlStore(ConnectorConformance):
    connector = "memory"
    profile = MEMORY_PROFILE

    @pytest.fixture(params=backends("sqlite", "postgres"))
    def engine(self, request: pytest.FixtureRequest, tmp_path: Path, secret_key: str) -> Engine:
        return Engine(open_sql_store(request.param, request, tmp_path, secret_key))

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        return {"instance": INSTANCE}

    @pytest.fixture
    def crm_control(self) -> CrmControl:
        control: CrmControl = MemoryControl(memory_crm(INSTANCE))
        return control
