"""Idempotency-Key over HTTP: one write for many concurrent retries; another body is a 409."""

from __future__ import annotations

import asyncio

import httpx
from crmlink_memory import memory_crm

from tests.server.conftest import App, envelope

CREATE = "/api/v1/crm/idem/objects/opportunity/events/create_opportunity"


def test_fifty_concurrent_requests_with_one_key_make_one_record(app: App) -> None:
    instance = f"idem-{app.id}"
    app.link_demo("idem", instance=instance)

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=app.base_url, auth=app.auth, timeout=60) as http:
            return await asyncio.gather(
                *[
                    http.post(
                        CREATE,
                        json={"payload": {"name": "Exactly once"}},
                        headers={"Idempotency-Key": "order-42"},
                    )
                    for _ in range(50)
                ]
            )

    responses = asyncio.run(fire())
    assert {r.status_code for r in responses} == {200}, {r.text for r in responses}
    assert len({r.json()["record"]["id"] for r in responses}) == 1
    assert len(memory_crm(instance).records("Opportunity")) == 1


def test_same_key_with_another_body_is_a_conflict(app: App) -> None:
    app.link_demo("idem", instance=f"idem2-{app.id}")
    with app.http() as http:
        first = http.post(CREATE, json={"payload": {"name": "A"}}, headers={"Idempotency-Key": "k"})
        again = http.post(CREATE, json={"payload": {"name": "A"}}, headers={"Idempotency-Key": "k"})
        assert first.json() == again.json()
        error = envelope(
            http.post(CREATE, json={"payload": {"name": "B"}}, headers={"Idempotency-Key": "k"}),
            409,
            "conflict",
        )
        assert "another request" in error["message"]


def test_keys_are_per_app(app: App, other_app: App) -> None:
    app.link_demo("idem", instance=f"idem3-{app.id}")
    other_app.link_demo("idem", instance=f"idem3-{other_app.id}")
    with app.http() as mine, other_app.http() as theirs:
        a = mine.post(CREATE, json={"payload": {"name": "A"}}, headers={"Idempotency-Key": "k"})
        b = theirs.post(CREATE, json={"payload": {"name": "B"}}, headers={"Idempotency-Key": "k"})
    assert a.status_code == b.status_code == 200
    assert b.json()["record"]["data"]["document_name"] == "B"
