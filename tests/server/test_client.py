"""crmlink.Client and AsyncClient against a live server: the Engine's verbs, typed errors."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from crmlink import (
    AsyncClient,
    Client,
    Conflict,
    Engine,
    MappingInvalid,
    NotFound,
    PayloadInvalid,
    Unauthorized,
)
from crmlink.server.demo import DEMO_MAPPING
from crmlink.testing import DEMO_OBJECTS

from tests.server.conftest import App


def test_invoke_has_the_engines_signature() -> None:
    engine = inspect.signature(Engine.invoke)
    assert inspect.signature(Client.invoke) == engine
    assert inspect.signature(AsyncClient.invoke).parameters == engine.parameters


def test_sync_client_round_trip(app: App) -> None:
    with app.client() as client:
        linked = client.link("sync", "memory", {}, DEMO_OBJECTS)
        assert linked["mapping_status"]["opportunity"]["create_opportunity"] == "not_mapped"
        client.set_mapping("sync", DEMO_MAPPING)
        created = client.invoke(
            "sync", "opportunity", "create_opportunity", {"name": "Deal"}, idempotency_key="c-1"
        )
        assert created.record is not None
        assert created.record.data["document_name"] == "Deal"
        again = client.invoke(
            "sync", "opportunity", "create_opportunity", {"name": "Deal"}, idempotency_key="c-1"
        )
        assert again.record == created.record
        updated = client.invoke(
            "sync",
            "opportunity",
            "document_updated",
            {"name": "Deal 2"},
            record_id=created.record.id,
        )
        assert updated.record is not None
        assert updated.record.data["document_name"] == "Deal 2"
        assert [o["name"] for o in client.catalog("sync")][:1]
        assert client.catalog_object("sync", "Opportunity")["fields"]["Name"]["required"]
        assert client.mapping("sync")["mapping"]["objects"]["contact"]["crm_object"] == "Contact"
        assert len(client.invocations("sync", limit=10)["invocations"]) == 3
        assert client.health("sync")["ok"] is True
        assert [c["id"] for c in client.connections()["connections"]] == ["sync"]
        client.unlink("sync")
        with pytest.raises(NotFound):
            client.connection("sync")


def test_errors_raise_the_engines_exception_classes(app: App) -> None:
    app.link_demo("typed")
    with app.client() as client:
        with pytest.raises(PayloadInvalid) as caught:
            client.invoke("typed", "opportunity", "create_opportunity", {"name": 1})
        assert [e.path for e in caught.value.errors] == ["payload.name"]
        assert caught.value.envelope()["error"]["type"] == "payload_invalid"
        with pytest.raises(Conflict):
            client.invoke(
                "typed", "opportunity", "document_updated", {}, record_id="Contact:003000000000001"
            )
        with pytest.raises(MappingInvalid):
            client.set_mapping("typed", {"objects": {}})
    with Client(app.base_url, app.key_id, "cs_wrong") as wrong, pytest.raises(Unauthorized):
        wrong.connections()


def test_async_client_round_trip(app: App) -> None:
    app.link_demo("async")

    async def run() -> None:
        async with AsyncClient(app.base_url, app.key_id, app.secret) as client:
            results = await asyncio.gather(
                *[
                    client.invoke("async", "opportunity", "create_opportunity", {"name": f"a{i}"})
                    for i in range(10)
                ]
            )
            assert len({r.record.id for r in results if r.record}) == 10
            with pytest.raises(NotFound):
                await client.invoke("nope", "opportunity", "create_opportunity", {"name": "x"})
            assert len((await client.invocations("async", limit=50))["invocations"]) == 10

    asyncio.run(run())
