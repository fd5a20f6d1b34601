"""Intake: contacts through the HTTP API to Kafka's acknowledgement, against a bare aiokafka producer."""

import asyncio
import contextlib
import socket
import time
import uuid
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from bench.stats import Timing
from onestop.contracts import EventEnvelope, encode_envelope
from onestop.intake.api import ContactIn, build_contact
from onestop.intake.app import create_app
from onestop.intake.settings import IntakeSettings
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


async def run(bootstrap: str, server_url: str, contacts: int, concurrency: int) -> dict[str, object]:
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    settings = IntakeSettings(
        kafka_bootstrap_servers=bootstrap,
        database_url=server_url,
        topic_namespace=namespace,
        database=f"bench_intake_{uuid.uuid4().hex[:8]}",
        personal_data_kek="",
    )
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        headers = {"Authorization": f"Bearer {mint_token('bench', ['contacts:write'])}"}
        api = Timing()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
            await client.post("/contacts", json=CONTACT)  # warm up connections and prepared statements

            async def one() -> None:
                started = time.perf_counter()
                response = await client.post("/contacts", json=CONTACT)
                assert response.status_code == 201, response.text
                api.latencies_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            for offset in range(0, contacts, concurrency):
                await asyncio.gather(*(one() for _ in range(min(concurrency, contacts - offset))))
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

            async def send(record: Any) -> None:
                started = time.perf_counter()
                await producer.send_and_wait(topic, value=record.value, key=record.key, headers=list(record.headers))
                bare.latencies_ms.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            for offset in range(0, contacts, concurrency):
                await asyncio.gather(*(send(r) for r in records[offset : offset + concurrency]))
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
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await drop_database(server_url, settings.database_name)
