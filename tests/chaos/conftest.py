"""A failure run's own world: three Kafka nodes on ports and state of their own (never the single broker on
9092), two instances of every service in the same consumer groups, a mail server of its own and fresh
databases on the shared PostgreSQL server, all removed afterwards."""

import asyncio
import os
import shutil
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from onestop.localinfra import kafka, mailpit, processes
from onestop.localinfra.kafka import KafkaNode
from onestop.localinfra.paths import state_dir
from onestop.ops.fleet import SERVICES, Fleet, environment, free_port
from tests.support import MailServer, fleet_settings

CLUSTER_FIRST_PORT = 9392  # nodes on 9392, 9394 and 9396, their controllers on the port after each
CLUSTER_SIZE = 3


@dataclass
class Cluster:
    """Three KRaft nodes, each broker and controller; `kill` and `start` act on single nodes."""

    root: Path
    nodes: list[KafkaNode]
    bootstrap: str

    def node(self, node_id: int) -> KafkaNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def kill(self, node: KafkaNode) -> None:
        """kill -9: the node gets no chance to hand over its leaderships or flush anything."""
        pid = processes.read_pid(node.pid_file)
        if pid is None:
            raise RuntimeError(f"Kafka node {node.node_id} is not running")
        os.kill(pid, signal.SIGKILL)
        if not processes.wait_until(lambda: not processes.pid_alive(pid), 10):
            raise RuntimeError(f"Kafka node {node.node_id} outlived SIGKILL")

    def start(self, timeout: float = 120) -> None:
        """Start every node that is not running, and wait until clients see all of them."""
        kafka.start(CLUSTER_SIZE, timeout, first_port=CLUSTER_FIRST_PORT, root=self.root)

    def stop(self) -> None:
        for node in self.nodes:
            processes.stop(node.pid_file)

    def kill_all(self) -> None:
        """For a cluster whose state is thrown away next: no controlled shutdown to wait for."""
        for node in self.nodes:
            if processes.read_pid(node.pid_file) is not None:
                self.kill(node)
            node.pid_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[Cluster]:
    root = state_dir() / "kafka-chaos"
    nodes = kafka.cluster_nodes(CLUSTER_SIZE, CLUSTER_FIRST_PORT, root)
    cluster = Cluster(root, nodes, kafka.bootstrap_servers(nodes))
    cluster.stop()  # a cluster an interrupted run left behind
    shutil.rmtree(root, ignore_errors=True)  # a fresh cluster: no topics or groups of earlier runs
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.kill_all()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class ChaosSystem(Fleet):
    """Two instances of each service (`intake` and `intake#2`, ...) on the cluster, and the mail they sent."""

    cluster: Cluster = field(kw_only=True)
    mail: MailServer = field(kw_only=True)

    def instances(self, service: str) -> list[str]:
        return [name for name in self.ports if name.split("#")[0] == service]

    async def stop(self, instance: str) -> None:
        """A graceful stop (SIGTERM), as a rolling deployment does."""
        process = self.processes[instance]
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.fixture
async def chaos_system(kafka_cluster: Cluster, postgres_url: str) -> AsyncIterator[ChaosSystem]:
    namespace = f"chaos{uuid.uuid4().hex[:8]}."
    mail_server = await asyncio.to_thread(mailpit.start)
    instances = (*SERVICES, *(f"{service}#2" for service in SERVICES))
    ports = {instance: free_port() for instance in instances}
    env = environment(
        kafka_cluster.bootstrap,
        postgres_url,
        namespace,
        OTEL_EXPORTER_OTLP_ENDPOINT="",  # no trace viewer: spans stay in the processes
        # a send cut off by a kill is tried again soon
        **fleet_settings(mail_server.smtp_port, ports, NOTIFY_CLAIM_LEASE_SECONDS="5"),
    )
    fleet = Fleet.prepare(namespace, env, state_dir() / "chaos-logs" / namespace.rstrip("."))
    system = ChaosSystem(
        fleet.namespace,
        fleet.env,
        fleet.logs,
        fleet.databases,
        ports,
        cluster=kafka_cluster,
        mail=MailServer(mail_server.url),
    )
    try:
        # The first instances create the topics and databases; the second ones then join their groups.
        await system.start_all(SERVICES)
        await system.start_all(tuple(f"{service}#2" for service in SERVICES))
        yield system
    finally:
        await system.stop_all()
        await asyncio.to_thread(mailpit.stop, mail_server)
        await system.drop_databases(postgres_url)
