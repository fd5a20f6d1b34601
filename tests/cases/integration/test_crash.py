"""A crash between the database commit and the Kafka publish loses nothing and doubles nothing."""

import asyncio
import os
import socket
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseHandedOff, CaseRaised
from onestop.servicekit.database import create_pool, drop_database
from onestop.servicekit.settings import with_database
from tests.cases.factories import routed
from tests.cases.integration.crashing_cases import CRASHED
from tests.support import eventually, publish_events, read_events

pytestmark = pytest.mark.integration

REPOSITORY = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_service_killed_after_commit_publishes_each_event_exactly_once_on_restart(
    kafka_bootstrap: str, postgres_url: str, namespace: str
) -> None:
    database, port = f"test_cases_{uuid.uuid4().hex[:10]}", free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_url,
        "DATABASE": database,
        "TOPIC_NAMESPACE": namespace,
        "CASES_HTTP_PORT": str(port),
    }
    # The same service, started through a launcher whose relay dies when it first has something to publish.
    crashing = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.cases.integration.crashing_cases",
        env=env,
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    # Received now, so no escalation clock adds events of its own while the test counts them.
    first = routed(at=datetime.now(UTC))
    pool = None
    restarted = None
    try:

        async def service_up() -> bool:
            # /health answers 200 once the database, the topics and the consumer are all there.
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(service_up, within=60)
        await publish_events(kafka_bootstrap, namespace, EventEnvelope.wrap(first, source="/test"))
        assert await asyncio.wait_for(crashing.wait(), timeout=60) == CRASHED, "died right after committing"

        pool = await create_pool(with_database(postgres_url, database))
        assert await pool.fetchval("SELECT count(*) FROM events WHERE case_id = $1", first.case_id) == 2
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 2

        restarted = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "onestop.cases",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        second = routed(at=datetime.now(UTC))
        await publish_events(kafka_bootstrap, namespace, EventEnvelope.wrap(second, source="/test"))
        events = await read_events(kafka_bootstrap, contract_topics.CASES.qualified(namespace), 4, within=90)
        by_case = {
            case: [type(e.data) for e in events if e.data.case_id == case]  # type: ignore[attr-defined]
            for case in (first.case_id, second.case_id)
        }
        assert by_case == {first.case_id: [CaseRaised, CaseHandedOff], second.case_id: [CaseRaised, CaseHandedOff]}
        assert await pool.fetchval("SELECT count(*) FROM events") == 4, "the redelivered decision raised nothing new"
    finally:
        for process in (crashing, restarted):
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()
        if pool is not None:
            await pool.close()
        await drop_database(postgres_url, database)
