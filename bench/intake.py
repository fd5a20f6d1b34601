"""Intake: contacts through the HTTP API to Kafka's acknowledgement, against a bare aiokafka producer."""

import time
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from bench.light_http import LightClient
from bench.stats import CpuMeter, Timing, infrastructure_pids, keep_busy
from onestop.contracts import EventEnvelope, encode_envelope, topics
from onestop.intake.api import ContactIn, build_contact
from onestop.localinfra.paths import state_dir
from onestop.ops.fleet import Fleet, environment
from onestop.servicekit.auth import mint_token
from onestop.servicekit.personal_data import new_kek
from onestop.servicekit.topics_admin import delete_namespace_topics, ensure_topics

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
    (or the GIL) with the load it is measured under. First `concurrency` callers on one process (the latency
    figure); then the most it takes, with four times as many callers, on one process and on two (intake
    holds no state between requests: a host with more cores runs more of them)."""
    at_concurrency = await _through_the_api(bootstrap, server_url, contacts, concurrency, processes=1)
    saturated = {
        f"{processes}_process{'es' if processes > 1 else ''}": await _through_the_api(
            bootstrap, server_url, contacts, 4 * concurrency, processes=processes
        )
        for processes in (1, 2)
    }
    bare = await _bare_producer(bootstrap, contacts, concurrency)
    return {
        "intake_http_to_kafka_ack": at_concurrency["api"],
        "bare_aiokafka_producer": bare.summary(),
        "ratio_to_bare": round(at_concurrency["api"]["per_second"] / bare.per_second, 3) if bare.per_second else None,
        "concurrency": concurrency,
        "cpu_ms_per_contact": at_concurrency["cpu_ms_per_contact"],
        "saturated": {"concurrency": 4 * concurrency, **saturated},
    }


async def _through_the_api(
    bootstrap: str, server_url: str, contacts: int, concurrency: int, *, processes: int
) -> dict[str, Any]:
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    env = environment(bootstrap, server_url, namespace, PERSONAL_DATA_KEK=new_kek(), OTEL_EXPORTER_OTLP_ENDPOINT="")
    fleet = Fleet.prepare(namespace, env, state_dir() / "bench-logs" / namespace.rstrip("."))
    instances = ["intake", *(f"intake#{n}" for n in range(2, processes + 1))]
    try:
        await fleet.start_all(tuple(instances))
        headers = {"Authorization": f"Bearer {mint_token('bench', ['contacts:write'])}"}
        clients = [LightClient("127.0.0.1", fleet.ports[name], headers, connections=concurrency) for name in instances]
        api = Timing()
        try:
            for client in clients:
                await client.post_json("/contacts", CONTACT)  # warm up connections and prepared statements

            async def one(n: int) -> None:
                # A burst is many residents at once, each reporting once.
                resident = {"name": f"Resident {n}", "email": f"resident{n}.{namespace}@example.org"}
                started = time.perf_counter()
                status, answer = await clients[n % len(clients)].post_json(
                    "/contacts", {**CONTACT, "customer": resident}
                )
                assert status == 201, answer[:200]
                api.latencies_ms.append((time.perf_counter() - started) * 1000)

            cpu = CpuMeter({"intake": [fleet.processes[name].pid for name in instances], **infrastructure_pids()})
            cpu.start()
            started = time.perf_counter()
            await keep_busy(one, range(contacts), concurrency)
            api.seconds, api.count = time.perf_counter() - started, contacts
            return {"api": api.summary(), "cpu_ms_per_contact": cpu.per(contacts)}
        finally:
            for client in clients:
                await client.close()
    finally:
        await fleet.stop_all()
        await fleet.drop_databases(server_url)
        await delete_namespace_topics(bootstrap, namespace)


async def _bare_producer(bootstrap: str, contacts: int, concurrency: int) -> Timing:
    """The same event, encoded the same way, acks=all, idempotent, at the same concurrency."""
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    await ensure_topics(bootstrap, namespace, [topics.CONTACTS])
    bare = Timing()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        topic = topics.CONTACTS.qualified(namespace)
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
        await delete_namespace_topics(bootstrap, namespace)
    return bare
