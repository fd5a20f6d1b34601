"""A real Apache Kafka broker in KRaft mode, run from Maven Central jars as a plain JVM process.

One combined broker+controller node by default; three nodes on one machine for replication and
fail-over (`make infra-up-cluster`), or on ports and state of their own (`first_port`, `root`) beside the
single node, as the failure run (tests/chaos) starts them. Readiness means a client's metadata request
succeeds and sees every broker. Secured single nodes run on ports and state of their own: SASL_SSL with
PLAIN (`start_secure`), and SASL/SCRAM-SHA-512 with ACLs enforced (`start_with_acls`).
"""

import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaClient  # type: ignore[import-untyped]
from aiokafka.helpers import create_ssl_context  # type: ignore[import-untyped]

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
    root: Path | None = None  # the cluster's state directory; None: the default one, .local/kafka

    @property
    def directory(self) -> Path:
        return (self.root or state_dir() / "kafka") / f"node-{self.node_id}"

    @property
    def pid_file(self) -> Path:
        return self.directory / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "kafka.out"


def cluster_nodes(size: int, first_port: int = FIRST_PORT, root: Path | None = None) -> list[KafkaNode]:
    # Node n listens on first_port + 2(n-1) for clients and the port after it for the controller.
    return [KafkaNode(n, first_port + 2 * (n - 1), first_port + 2 * (n - 1) + 1, root) for n in range(1, size + 1)]


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


def _server_properties(node: KafkaNode, nodes: list[KafkaNode], data_dir: Path | None = None) -> str:
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
            f"log.dirs={data_dir or node.directory / 'data'}",
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


def start(size: int = 1, timeout: float = 120.0, first_port: int = FIRST_PORT, root: Path | None = None) -> str:
    """Start (or find running) a cluster of `size` nodes and return its bootstrap servers. Nodes that are
    not running are started, so this also brings back a node that was stopped or killed."""
    nodes = cluster_nodes(size, first_port, root)
    bootstrap = bootstrap_servers(nodes)
    if all(processes.read_pid(node.pid_file) for node in nodes) and is_ready(bootstrap, size):
        return bootstrap
    ensure_jars()
    cluster_id_file = (root or state_dir() / "kafka") / f"cluster-{size}.id"
    cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
    if not cluster_id_file.exists() or cluster_id_file.read_text().startswith("-"):  # see _random_cluster_id
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


@dataclass(frozen=True)
class SecureBroker:
    """A single node whose clients must speak TLS and authenticate with SASL/PLAIN."""

    bootstrap: str
    username: str
    password: str
    ca_file: Path
    pid_file: Path


SECURE_PORT = 9192


def start_secure(username: str, password: str, port: int = SECURE_PORT, timeout: float = 120.0) -> SecureBroker:
    """Start a one-node cluster listening with SASL_SSL on `port` (its own state, apart from the others)."""
    from onestop.localinfra import tls

    directory = state_dir() / "kafka-secure"
    node = KafkaNode(1, port, port + 1)
    certificates = tls.issue(directory / "tls")
    broker = SecureBroker(f"127.0.0.1:{port}", username, password, certificates.ca_file, directory / "kafka.pid")
    processes.stop(broker.pid_file)
    ensure_jars()
    broker_secret = secrets.token_urlsafe(16)
    properties_text = _with_listeners(
        _server_properties(node, [node], directory / "data"),
        [
            f"listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{port}",
            "inter.broker.listener.name=SASL_SSL",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
            "sasl.enabled.mechanisms=PLAIN",
            "sasl.mechanism.inter.broker.protocol=PLAIN",
            # The node signs in to itself as `broker`; clients sign in as `username`.
            "listener.name.sasl_ssl.plain.sasl.jaas.config="
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="broker" password="{broker_secret}" user_broker="{broker_secret}" '
            f'user_{username}="{password}";',
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={certificates.ca_file}",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={certificates.server_pem}",
        ],
    )
    client_options = {
        "security_protocol": "SASL_SSL",
        "ssl_context": create_ssl_context(cafile=str(certificates.ca_file)),
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }
    _run_single_node(directory, properties_text, [], broker.bootstrap, client_options, timeout)
    return broker


def stop_secure() -> None:
    processes.stop(state_dir() / "kafka-secure" / "kafka.pid")


ACLS_PORT = 9292
ADMIN = "admin"
SCRAM_MECHANISM = "SCRAM-SHA-512"
_NODE_USER = "broker"  # the node itself, between its broker and controller parts
_SCRAM_ITERATIONS = 8192


@dataclass(frozen=True)
class ScramBroker:
    """A single node whose clients sign in with SASL/SCRAM-SHA-512 and may do only what ACLs allow them.
    `credentials` maps each user, the administrator `admin` among them, to its password."""

    bootstrap: str
    directory: Path
    credentials: dict[str, str]

    @property
    def pid_file(self) -> Path:
        return self.directory / "kafka.pid"

    def client_options(self, username: str = ADMIN) -> dict[str, Any]:
        """aiokafka's connection options for signing in as `username`."""
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": username,
            "sasl_plain_password": self.credentials[username],
        }


def start_with_acls(
    usernames: Iterable[str], port: int = ACLS_PORT, directory: Path | None = None, timeout: float = 120.0
) -> ScramBroker:
    """Start (or find running) a one-node cluster on `port` that authenticates every client with
    SCRAM-SHA-512 and lets it do only what an ACL allows (`kafka_acls.provision` grants them); `admin` is
    the one super user clients can be.

    `admin` and each of `usernames` get a generated password, kept in the state directory for its owner
    only. Kafka takes SCRAM users when a node's storage is formatted, so another set of users starts a
    new cluster: the old state is wiped."""
    directory = directory or state_dir() / "kafka-acls"
    users = sorted({ADMIN, _NODE_USER, *usernames})
    credentials_file = directory / "credentials.json"
    credentials = _read_credentials(credentials_file)
    formatted = (directory / "data" / "meta.properties").exists()
    broker = ScramBroker(f"127.0.0.1:{port}", directory, credentials)
    same_users = formatted and sorted(credentials) == users
    if same_users and processes.read_pid(broker.pid_file) and is_ready(broker.bootstrap, **broker.client_options()):
        return broker
    processes.stop(broker.pid_file)
    if not same_users:
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        directory.chmod(0o700)
        credentials = {user: secrets.token_urlsafe(24) for user in users}
        _write_private(credentials_file, json.dumps(credentials, indent=2))
        broker = ScramBroker(broker.bootstrap, directory, credentials)
    ensure_jars()
    node = KafkaNode(1, port, port + 1)
    node_password = credentials[_NODE_USER]
    properties_text = _with_listeners(
        _server_properties(node, [node], directory / "data"),
        [
            f"listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}",
            f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
            "inter.broker.listener.name=SASL_PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            f"sasl.enabled.mechanisms={SCRAM_MECHANISM}",
            f"sasl.mechanism.inter.broker.protocol={SCRAM_MECHANISM}",
            f"listener.name.sasl_plaintext.{SCRAM_MECHANISM.lower()}.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{_NODE_USER}" password="{node_password}";',
            # SCRAM users live in the metadata log, which the controller serves: the node signs in to its
            # controller with PLAIN, as the one user that listener knows.
            "sasl.mechanism.controller.protocol=PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            "listener.name.controller.plain.sasl.jaas.config="
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{_NODE_USER}" password="{node_password}" user_{_NODE_USER}="{node_password}";',
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            f"super.users=User:{ADMIN};User:{_NODE_USER}",
        ],
    )
    # The format tool takes each user's salted password, so no password appears on a command line.
    scram_users = [
        arg for user, password in credentials.items() for arg in ("--add-scram", _scram_credential(user, password))
    ]
    _run_single_node(directory, properties_text, scram_users, broker.bootstrap, broker.client_options(), timeout)
    return broker


def stop_with_acls(directory: Path | None = None) -> None:
    processes.stop((directory or state_dir() / "kafka-acls") / "kafka.pid")


def _scram_credential(username: str, password: str) -> str:
    """What `kafka-storage format --add-scram` takes for a user: RFC 5802's SaltedPassword, not the password."""
    salt = os.urandom(32)
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _SCRAM_ITERATIONS)
    encode = base64.b64encode
    return (
        f"{SCRAM_MECHANISM}=[name={username},iterations={_SCRAM_ITERATIONS},"
        f'salt="{encode(salt).decode()}",saltedpassword="{encode(salted).decode()}"]'
    )


def _read_credentials(path: Path) -> dict[str, str]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _write_private(path: Path, text: str) -> None:
    path.touch()
    path.chmod(0o600)
    path.write_text(text)


def _with_listeners(properties: str, listener_lines: list[str]) -> str:
    """`properties` with its plaintext listeners replaced by `listener_lines`."""
    kept = [
        line
        for line in properties.splitlines()
        if not line.startswith(("listeners=", "advertised.listeners=", "inter.broker", "listener.security"))
    ]
    return "\n".join([*kept, *listener_lines, ""])


def _run_single_node(
    directory: Path,
    properties_text: str,
    format_options: list[str],
    bootstrap: str,
    client_options: dict[str, Any],
    timeout: float,
) -> None:
    """Format the node's storage if new, start it, and wait until a client signing in with `client_options`
    sees it."""
    properties = directory / "server.properties"
    _write_private(properties, properties_text)  # it holds the node's own password
    if not (directory / "data" / "meta.properties").exists():
        subprocess.run(
            _java(
                "kafka.tools.StorageTool", "format", "-t", _random_cluster_id(), "-c", str(properties), *format_options
            ),
            check=True,
            capture_output=True,
        )
    log_file, pid_file = directory / "kafka.out", directory / "kafka.pid"
    processes.spawn(_java("kafka.Kafka", str(properties), heap="384m", log_dir=directory / "logs"), log_file, pid_file)
    if not processes.wait_until(lambda: is_ready(bootstrap, **client_options), timeout, interval=1.0):
        processes.stop(pid_file)
        raise RuntimeError(f"the secured Kafka broker was not ready within {timeout:.0f}s:\n{_tail(log_file)}")


def stop(size: int | None = None) -> None:
    for node in cluster_nodes(size or 3):
        processes.stop(node.pid_file)


def stop_node(node: KafkaNode) -> None:
    processes.stop(node.pid_file)


def running_nodes() -> list[KafkaNode]:
    return [node for node in cluster_nodes(3) if processes.read_pid(node.pid_file)]


def _random_cluster_id() -> str:
    # Kafka wants a base64url-encoded 16-byte UUID without padding (what StorageTool random-uuid prints). Like
    # Kafka's own Uuid.randomUuid, never one that starts with "-": StorageTool would read it as an option.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def is_ready(bootstrap: str, expected_brokers: int = 1, **client_options: Any) -> bool:
    # A broker still starting refuses connections; aiokafka would log each refusal as an error.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(_brokers_visible(bootstrap, **client_options)) >= expected_brokers
    except Exception:
        return False


async def _brokers_visible(bootstrap: str, **client_options: Any) -> int:
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **client_options)
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
