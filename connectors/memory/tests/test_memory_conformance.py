"""The memory CRM passes the conformance suite unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from crmlink.testing import ConnectorConformance, CrmControl
from crmlink_memory import memory_crm
from crmlink_memory.testing import MEMORY_PROFILE, MemoryControl

INSTANCE = "conformance"


class TestMemoryConformance(ConnectorConformance):
    connector = "memory"
    profile = MEMORY_PROFILE

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        return {"instance": INSTANCE}

    @pytest.fixture
    def crm_control(self) -> CrmControl:
        return MemoryControl(memory_crm(INSTANCE))
