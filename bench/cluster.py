"""CPU per contact on a replicated cluster: the five services (one instance each) on three Kafka nodes with
replication 3 and min.insync.replicas 2, as a council would run them; what docs/capacity.md builds on.

`python -m bench.cluster [--flood N] [--rate R] [--seconds S]` starts the three nodes on ports and state of
their own (never the single broker on 9092), measures, stops them and writes bench/results/cluster.json:

- idle: CPU a second of every process with no contacts flowing (the floor an installation pays);
- steady: CPU per contact at a steady, modest rate (open loop), where each batch is small;
- flood: CPU per contact when as many contacts as the machine takes are in flight (64 callers);
- idle again with the topics of more installations on the same brokers (`--installations`), for what each
  partition costs a broker with nothing flowing;
- idle once more with every service stopped: the brokers' own floor, without clients;
- storage: bytes of log segments on the three nodes (every replica) and of the five databases, per contact,
  and the partitions one installation's topics take.

Each Kafka node's CPU is measured on its own, besides their sum.
"""

import argparse
import asyncio
import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]

from bench.end_to_end import Load, Watcher, at_rate
from bench.stats import CpuMeter, infrastructure_pids, keep_busy
from onestop.localinfra import kafka, mailpit, processes
from onestop.localinfra.paths import state_dir
from onestop.ops.fleet import SERVICES, Fleet, environment
from onestop.servicekit.personal_data import new_kek
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.topics_admin import ensure_topics

FIRST_PORT = 9492  # nodes on 9492, 9494 and 9496, their controllers on the port after each
NODES = 3
RESULTS = Path(__file__).parent / "results" / "cluster.json"


def _per_second(meter: CpuMeter, seconds: float) -> dict[str, float]:
    """CPU milliseconds a second, by process, since `meter.start()`."""
    per = meter.per(1)
    return {name: round(ms / seconds, 2) for name, ms in per.items()}


def log_bytes(nodes: list[kafka.KafkaNode], namespace: str) -> int:
    """Bytes of log segments of the namespace's topics on every node: all three replicas of each."""
    return sum(
        segment.stat().st_size
        for node in nodes
        for partition in (node.directory / "data").glob(f"{namespace}*")
        for segment in partition.glob("*.log")
    )


async def database_bytes(server_url: str, databases: list[str]) -> int:
    connection = await asyncpg.connect(server_url)
    try:
        return sum([await connection.fetchval("SELECT pg_database_size($1)", name) for name in databases])
    finally:
        await connection.close()


async def partitions_of(bootstrap: str, namespace: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(namespace)]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {t["topic"].removeprefix(namespace): len(t["partitions"]) for t in described}


async def measure(flood: int, rate: float, seconds: float, installations: int) -> dict[str, Any]:
    root = state_dir() / "kafka-bench-cluster"
    nodes = kafka.cluster_nodes(NODES, FIRST_PORT, root)
    for node in nodes:
        processes.stop(node.pid_file)
    shutil.rmtree(root, ignore_errors=True)
    bootstrap = await asyncio.to_thread(kafka.start, NODES, 180.0, FIRST_PORT, root)
    server_url = ServiceSettings().database_url
    mail_server = await asyncio.to_thread(mailpit.start)
    namespace = f"cluster{uuid.uuid4().hex[:8]}."
    env = environment(
        bootstrap,
        server_url,
        namespace,
        OTEL_EXPORTER_OTLP_ENDPOINT="",
        PERSONAL_DATA_KEK=new_kek(),
        NOTIFY_SMTP_PORT=str(mail_server.smtp_port),
        NOTIFY_ACKNOWLEDGEMENT_GROUPING_SECONDS="0",
        CASES_ESCALATION_INTERVAL_SECONDS="3600",
    )
    fleet = Fleet.prepare(namespace, env, state_dir() / "bench-logs" / namespace.rstrip("."))
    stop = asyncio.Event()
    watcher = Watcher(bootstrap, namespace)
    watching: asyncio.Task[None] | None = None
    try:
        await fleet.start_all(SERVICES)
        pids = {name: [process.pid] for name, process in fleet.processes.items()}
        pids |= {f"kafka node {node.node_id}": [processes.read_pid(node.pid_file) or 0] for node in nodes}
        pids["postgresql"] = infrastructure_pids().get("postgresql", [])
        watching = asyncio.create_task(watcher.run(stop))
        load = Load(fleet, watcher)
        await keep_busy(load.submit, range(20), 4)  # warm up every path once
        await load.settled(list(load.submitted), within=120)
        # Storage grows from here: what every database and topic holds once created is left out.
        warmed = len(load.submitted)
        kafka_before = log_bytes(nodes, namespace)
        postgres_before = await database_bytes(server_url, list(fleet.databases.values()))

        idle = CpuMeter(pids)
        idle.start()
        started = time.monotonic()
        await asyncio.sleep(seconds)  # what the processes spend with nothing to do
        idle_per_second = _per_second(idle, time.monotonic() - started)

        before = set(load.submitted)
        steady = CpuMeter(pids)
        steady.start()
        await at_rate(load.submit, range(10_000, 10_000 + int(rate * seconds)), rate)
        offered = [c for c in load.submitted if c not in before]
        await load.settled(offered, within=120)
        steady_cpu = steady.per(len(offered))
        steady_latency = load.latencies(offered)

        before = set(load.submitted)
        flooding = CpuMeter(pids)
        flooding.start()
        started = time.monotonic()
        await keep_busy(load.submit, range(100_000, 100_000 + flood), 64)
        flooded = [c for c in load.submitted if c not in before]
        await load.settled(flooded, within=180)
        flood_cpu = flooding.per(len(flooded))
        finished = max((watcher.notified.get(c, started) for c in flooded), default=started)
        flood_rate = round(len(flooded) / max(finished - started, 1e-9), 1)
        await load.close()
        contacts = len(load.submitted) - warmed
        partitions = await partitions_of(bootstrap, namespace)
        # What more installations' topics cost the brokers with nothing flowing: the idle figure again, with
        # the topics of `installations` more (no services attached) beside this one's.
        for number in range(installations):
            await ensure_topics(bootstrap, f"{namespace}extra{number}.")
        brokers_only = {name: pids[name] for name in pids if name.startswith("kafka node")}
        crowded = CpuMeter(brokers_only)
        crowded.start()
        started = time.monotonic()
        await asyncio.sleep(seconds)
        crowded_per_second = _per_second(crowded, time.monotonic() - started)
        # And with no client at all: the services and the watcher stopped, what the brokers spend alone.
        stop.set()
        await asyncio.gather(watching, return_exceptions=True)
        await fleet.stop_all()
        alone = CpuMeter(brokers_only)
        alone.start()
        started = time.monotonic()
        await asyncio.sleep(seconds)
        alone_per_second = _per_second(alone, time.monotonic() - started)
        kafka_bytes = log_bytes(nodes, namespace) - kafka_before
        postgres_bytes = await database_bytes(server_url, list(fleet.databases.values())) - postgres_before
        for figures in (idle_per_second, steady_cpu, flood_cpu, crowded_per_second, alone_per_second):
            figures["kafka (3 nodes)"] = round(sum(v for k, v in figures.items() if k.startswith("kafka node")), 2)
        return {
            "measured_at": datetime.now(UTC).isoformat(),
            "machine": {"cores": os.cpu_count()},
            "cluster": {"nodes": NODES, "replication": 3, "min_insync_replicas": 2},
            "instances_per_service": 1,
            "idle_cpu_ms_per_second": idle_per_second,
            "steady": {
                "contacts_per_second": rate,
                "contacts": len(offered),
                "cpu_ms_per_contact": steady_cpu,
                **steady_latency,
            },
            "flood": {
                "contacts": len(flooded),
                "contacts_per_second": flood_rate,
                "cpu_ms_per_contact": flood_cpu,
                "not_notified": len([c for c in flooded if c not in watcher.notified]),
            },
            "failed_submissions": load.failures,
            "storage": {
                "contacts": contacts,
                "kafka_log_bytes_all_replicas": kafka_bytes,
                "kafka_bytes_per_contact_all_replicas": round(kafka_bytes / contacts),
                "postgresql_bytes": postgres_bytes,
                "postgresql_bytes_per_contact": round(postgres_bytes / contacts),
            },
            "partitions_per_installation": {"total": sum(partitions.values()), "by_topic": partitions},
            "idle_brokers_with_more_installations": {
                "installations": 1 + installations,
                "partitions": sum(partitions.values()) * (1 + installations),
                "cpu_ms_per_second": crowded_per_second,
            },
            "idle_brokers_without_clients_cpu_ms_per_second": alone_per_second,
        }
    finally:
        stop.set()
        if watching is not None:
            await asyncio.gather(watching, return_exceptions=True)
        await fleet.stop_all()
        await asyncio.to_thread(mailpit.stop, mail_server)
        await fleet.drop_databases(server_url)
        for node in nodes:
            processes.stop(node.pid_file)
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=600, help="contacts in the flood")
    parser.add_argument("--rate", type=float, default=5.0, help="contacts a second in the steady phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the idle and steady phases")
    parser.add_argument("--installations", type=int, default=10, help="more installations' topics, for idle")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = asyncio.run(measure(args.flood, args.rate, args.seconds, args.installations))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
