"""Restarting PostgreSQL and the Kafka broker under running services: clients retry, nothing is lost or doubled."""

import asyncio
import os

import httpx
import pytest

from onestop.localinfra import kafka, postgres
from tests.e2e.conftest import System
from tests.support import bearer, eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("DATABASE_URL")),
        reason="restarts the local Kafka and PostgreSQL processes; external infrastructure is not ours to restart",
    ),
]

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read")


async def submit(intake: httpx.AsyncClient, n: int) -> None:
    """As a channel front-end would: retry with the same Idempotency-Key until the contact is taken."""
    body = {
        "channel": "web",
        "customer": {"email": f"restart{n}@example.org"},
        "needs": [
            {"kind": "report_problem", "service_code": "577", "location": {"latitude": 52 + n / 100, "longitude": -1}}
        ],
    }
    headers = {**DESKTOP, "Idempotency-Key": f"restart-{n}"}
    async with asyncio.timeout(180):
        while True:
            try:
                response = await intake.post("/contacts", json=body, headers=headers)
                if response.status_code == 201:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)


async def test_services_ride_out_a_postgres_restart_and_a_broker_restart(system: System) -> None:
    submitted = 0
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        for _ in range(5):
            await submit(intake, submitted)
            submitted += 1
        await asyncio.to_thread(postgres.restart)
        for _ in range(5):
            await submit(intake, submitted)
            submitted += 1
        await asyncio.to_thread(kafka.stop, 1)
        await asyncio.to_thread(kafka.start, 1)
        for _ in range(5):
            await submit(intake, submitted)
            submitted += 1

    async with httpx.AsyncClient(base_url=system.url("cases")) as cases:

        async def all_raised() -> int | None:
            try:
                total = (await cases.get("/cases?limit=1", headers=STAFF)).json()["total"]
            except (httpx.HTTPError, KeyError):
                return None
            return total if total >= submitted else None

        assert await eventually(all_raised, within=240) == submitted, "one case per contact, none lost, none doubled"

    async def acknowledged() -> int | None:
        sent = {m.to for m in await system.mail.messages() if "We have your request" in m.subject}
        return len(sent) if len(sent) >= submitted else None

    assert await eventually(acknowledged, within=240) == submitted
    await asyncio.sleep(2)
    acks = [m for m in await system.mail.messages() if "We have your request" in m.subject]
    # A send the database went down before recording is sent again, under the same Message-ID, so the
    # resident's mail system shows it once: one notification per contact, however many deliveries.
    assert len({m.message_id for m in acks}) == len({m.to for m in acks}) == submitted, "no duplicate notification"
