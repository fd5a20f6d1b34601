"""Intake: contacts through the HTTP API to Kafka's acknowledgement, against a bare aiokafka producer."""

import time
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from bench.light_http import LightClient
from bench.stats import CpuMeter, Timing, infrastructure_pids, keep_busy
from onestop.contracts import EventEnvelope, encode_envelope
from onestop.intake.api import ContactIn, build_contact
from onestop.localinfra.paths import state_dir
from onestop.ops.fleet import Fleet, environment
from onestop.servicekit.auth import mint_token
from onestop.servicekit.personal_data import new_kek

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


async def run(bootstrap: str, server_url: str, contacts: int, concurrency: int) -> dict[str, object]:
    """The service runs as its own process, as it does in production, so it does not share an event loop
    (or the GIL) with the load it is measured under."""
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    env = environment(bootstrap, server_url, namespace, PERSONAL_DATA_KEK=new_kek(), OTEL_EXPORTER_OTLP_ENDPOINT="")
    fleet = Fleet.prepare(namespace, env, state_dir() / "bench-logs" / namespace.rstrip("."))
    try:
        await fleet.start_all(("intake",))
        port = fleet.ports["intake"]
        headers = {"Authorization": f"Bearer {mint_token('bench', ['contacts:write'])}"}
        api = Timing()
        client = LightClient("127.0.0.1", port, headers, connections=concurrency)
        try:
            await client.post_json("/contacts", CONTACT)  # warm up connections and prepared statements

            async def one(n: int) -> None:
                # A burst is many residents at once, each reporting once.
                resident = {"name": f"Resident {n}", "email": f"resident{n}.{namespace}@example.org"}
                started = time.perf_counter()
                status, answer = await client.post_json("/contacts", {**CONTACT, "customer": resident})
                assert status == 201, answer[:200]
                api.latencies_ms.append((time.perf_counter() - started) * 1000)

            cpu = CpuMeter({"intake": [fleet.processes["intake"].pid], **infrastructure_pids()})
            cpu.start()
            started = time.perf_counter()
            await keep_busy(one, range(contacts), concurrency)
            api.seconds, api.count = time.perf_counter() - started, contacts
            cpu_per_contact = cpu.per(contacts)
        finally:
            await client.close()

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
            await keep_busy(send, range(contacts), concurrency)
            bare.seconds, bare.count = time.perf_counter() - started, contacts
        finally:
            await producer.stop()
        return {
            "intake_http_to_kafka_ack": api.summary(),
            "bare_aiokafka_producer": bare.summary(),
            "ratio_to_bare": round(api.per_second / bare.per_second, 3) if bare.per_second else None,
            "concurrency": concurrency,
            "cpu_ms_per_contact": cpu_per_contact,
        }
    finally:
        await fleet.stop_all()
        await fleet.drop_databases(server_url)
