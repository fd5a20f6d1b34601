"""Intake: contacts through the HTTP API to Kafka's acknowledgement, against a bare aiokafka producer."""

import asyncio
import contextlib
import os
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from bench.stats import Timing
from onestop.contracts import EventEnvelope, encode_envelope
from onestop.intake.api import ContactIn, build_contact
from onestop.servicekit.auth import mint_token
from onestop.servicekit.database import drop_database

CONTACT: dict[str, Any] = {
    "channel": "web",
    "customer": {"name": "Bench Resident", "email": "bench@example.org"},
    "needs": [
        {
            "kind": "report_problem",
            "service_code": "587",
            "description": "Fly-tip",
            "location": {"latitude": 52.24, "longitude": -0.9},
        }
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def keep_busy(work: Callable[[int], Awaitable[None]], total: int, concurrency: int) -> None:
    """`concurrency` callers, each starting its next request as soon as its last is answered."""
    numbers = iter(range(total))

    async def caller() -> None:
        for n in numbers:
            await work(n)

    await asyncio.gather(*(caller() for _ in range(concurrency)))


async def run(bootstrap: str, server_url: str, contacts: int, concurrency: int) -> dict[str, object]:
    """The service runs as its own process, as it does in production, so it does not share an event loop
    (or the GIL) with the load it is measured under."""
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    database = f"bench_intake_{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATABASE_URL": server_url,
        "TOPIC_NAMESPACE": namespace,
        "DATABASE": database,
        "PERSONAL_DATA_KEK": "",
        "INTAKE_HTTP_PORT": str(port),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "onestop.intake",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as probe, asyncio.timeout(120):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/health")).status_code == 200:
                        break
                if server.returncode is not None:
                    raise RuntimeError(f"the intake service exited with {server.returncode}")
                await asyncio.sleep(0.2)
        headers = {"Authorization": f"Bearer {mint_token('bench', ['contacts:write'])}"}
        api = Timing()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
            await client.post("/contacts", json=CONTACT)  # warm up connections and prepared statements

            async def one(n: int) -> None:
                # A burst is many residents at once, each reporting once.
                resident = {"name": f"Resident {n}", "email": f"resident{n}.{namespace}@example.org"}
                started = time.perf_counter()
                response = await client.post("/contacts", json={**CONTACT, "customer": resident})
                assert response.status_code == 201, response.text
                api.latencies_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            await keep_busy(one, contacts, concurrency)
            api.seconds, api.count = time.perf_counter() - started, contacts

        # The bare producer: the same event, encoded the same way, acks=all, idempotent, same concurrency.
        bare = Timing()
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            topic = f"{namespace}onestop.contacts.v1"
            records = [
                encode_envelope(EventEnvelope.wrap(build_contact(ContactIn.model_validate(CONTACT)), source="/b"))
                for _ in range(contacts)
            ]

            async def send(n: int) -> None:
                record = records[n]
                started = time.perf_counter()
                await producer.send_and_wait(topic, value=record.value, key=record.key, headers=list(record.headers))
                bare.latencies_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            await keep_busy(send, contacts, concurrency)
            bare.seconds, bare.count = time.perf_counter() - started, contacts
        finally:
            await producer.stop()
        return {
            "intake_http_to_kafka_ack": api.summary(),
            "bare_aiokafka_producer": bare.summary(),
            "ratio_to_bare": round(api.per_second / bare.per_second, 3) if bare.per_second else None,
            "concurrency": concurrency,
        }
    finally:
        server.terminate()
        await server.wait()
        await drop_database(server_url, database)
