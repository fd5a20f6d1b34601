"""A real Apache Kafka broker in KRaft mode, run from Maven Central jars as a plain JVM process.

One combined broker+controller node by default; three nodes on one machine for replication and
fail-over tests. Readiness means a client's metadata request succeeds and sees every broker.
"""

import asyncio
import logging
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaClient  # type: ignore[import-untyped]

from onestop.localinfra import processes
from onestop.localinfra.paths import repo_root, state_dir

KAFKA_VERSION = "4.3.1"
FIRST_PORT = 9092
HEAP = "512m"


@dataclass(frozen=True)
class KafkaNode:
    node_id: int
    port: int
    controller_port: int

    @property
    def directory(self) -> Path:
        return state_dir() / "kafka" / f"node-{self.node_id}"

    @property
    def pid_file(self) -> Path:
        return self.directory / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "kafka.out"


def cluster_nodes(size: int, first_port: int = FIRST_PORT) -> list[KafkaNode]:
    # Node n listens on first_port + 2(n-1) for clients and the port after it for the controller.
    return [KafkaNode(n, first_port + 2 * (n - 1), first_port + 2 * (n - 1) + 1) for n in range(1, size + 1)]


def bootstrap_servers(nodes: list[KafkaNode]) -> str:
    return ",".join(f"127.0.0.1:{node.port}" for node in nodes)


def jar_dir() -> Path:
    return repo_root() / "deploy" / "local" / "kafka" / "lib"


def ensure_jars() -> Path:
    """Resolve the broker's runtime jars from Maven Central once (Maven caches them in ~/.m2)."""
    lib = jar_dir()
    if lib.is_dir() and any(lib.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
        return lib
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise RuntimeError("Java 17+ and Maven are needed to run the local Kafka broker")
    print(f"resolving Apache Kafka {KAFKA_VERSION} jars from Maven Central ...", flush=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={lib}",
        ],
        cwd=lib.parent,
        check=True,
    )
    return lib


def _java(main_class: str, *args: str, heap: str | None = None, log_dir: Path | None = None) -> list[str]:
    command = ["java"]
    if heap:
        command += [f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
    log_config = repo_root() / "deploy" / "local" / "kafka" / "log4j2.yaml"
    command += [f"-Dlog4j2.configurationFile={log_config}"]
    if log_dir:
        command += [f"-Dkafka.logs.dir={log_dir}"]
    return [*command, "-cp", f"{jar_dir()}/*", main_class, *args]


def _server_properties(node: KafkaNode, nodes: list[KafkaNode]) -> str:
    replication = min(3, len(nodes))
    min_isr = 2 if len(nodes) >= 3 else 1
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node.node_id}",
            f"controller.quorum.voters={voters}",
            f"listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={node.directory / 'data'}",
            "num.partitions=6",
            f"default.replication.factor={replication}",
            f"min.insync.replicas={min_isr}",
            f"offsets.topic.replication.factor={replication}",
            "offsets.topic.num.partitions=3",
            f"transaction.state.log.replication.factor={replication}",
            f"transaction.state.log.min.isr={min_isr}",
            f"share.coordinator.state.topic.replication.factor={replication}",
            f"share.coordinator.state.topic.min.isr={min_isr}",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "log.cleaner.dedupe.buffer.size=2097152",
            "log.retention.hours=-1",
            "",
        ]
    )


def start(size: int = 1, timeout: float = 120.0) -> str:
    """Start (or find running) a cluster of `size` nodes and return its bootstrap servers."""
    nodes = cluster_nodes(size)
    bootstrap = bootstrap_servers(nodes)
    if all(processes.read_pid(node.pid_file) for node in nodes) and is_ready(bootstrap, size):
        return bootstrap
    ensure_jars()
    cluster_id_file = state_dir() / "kafka" / f"cluster-{size}.id"
    cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
    if not cluster_id_file.exists():
        cluster_id_file.write_text(_random_cluster_id())
    cluster_id = cluster_id_file.read_text().strip()
    for node in nodes:
        if processes.read_pid(node.pid_file):
            continue
        node.directory.mkdir(parents=True, exist_ok=True)
        properties = node.directory / "server.properties"
        properties.write_text(_server_properties(node, nodes))
        if not (node.directory / "data" / "meta.properties").exists():
            subprocess.run(
                _java(
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(properties),
                    "--ignore-formatted",
                ),
                check=True,
                capture_output=True,
            )
        processes.spawn(
            _java("kafka.Kafka", str(properties), heap=HEAP, log_dir=node.directory / "logs"),
            node.log_file,
            node.pid_file,
        )
    if not processes.wait_until(lambda: is_ready(bootstrap, size), timeout, interval=1.0):
        tails = "\n".join(_tail(node.log_file) for node in nodes)
        raise RuntimeError(f"Kafka at {bootstrap} was not ready within {timeout:.0f}s:\n{tails}")
    return bootstrap


def stop(size: int | None = None) -> None:
    for node in cluster_nodes(size or 3):
        processes.stop(node.pid_file)


def stop_node(node: KafkaNode) -> None:
    processes.stop(node.pid_file)


def running_nodes() -> list[KafkaNode]:
    return [node for node in cluster_nodes(3) if processes.read_pid(node.pid_file)]


def _random_cluster_id() -> str:
    # Kafka wants a base64url-encoded 16-byte UUID without padding (what StorageTool random-uuid prints).
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def is_ready(bootstrap: str, expected_brokers: int = 1) -> bool:
    # A broker still starting refuses connections; aiokafka would log each refusal as an error.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(_brokers_visible(bootstrap)) >= expected_brokers
    except Exception:
        return False


async def _brokers_visible(bootstrap: str) -> int:
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(client.bootstrap(), timeout=6)
        metadata = await asyncio.wait_for(client.fetch_all_metadata(), timeout=6)
        return len(metadata.brokers())
    finally:
        await client.close()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"
