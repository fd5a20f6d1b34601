"""An installation's topics and each service's ACLs, made on a broker by its administrator from the declared
access map (`onestop.contracts.kafka_access`), the way an operator would make them in a cluster.

Services are given no right to create topics: the administrator creates every topic they need first.
Everything here is idempotent: an existing topic or ACL is left as it is.
"""

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.errors import for_code  # type: ignore[import-untyped]
from aiokafka.protocol.admin import CreateAclsRequest, DescribeAclsRequest  # type: ignore[import-untyped]

from onestop.contracts.kafka_access import (
    SERVICES,
    Operation,
    PatternType,
    ResourceType,
    ServiceAccess,
    provisioned_topics,
)
from onestop.localinfra import kafka

# Kafka's wire codes (org.apache.kafka.common.resource and .acl).
_RESOURCE_TYPE = {ResourceType.TOPIC: 2, ResourceType.GROUP: 3, ResourceType.TRANSACTIONAL_ID: 5}
_PATTERN = {PatternType.LITERAL: 3, PatternType.PREFIX: 4}
_OPERATION = {Operation.READ: 3, Operation.WRITE: 4}
_ANY, _ALLOW = 1, 3  # "any" matches every resource type, pattern and operation in a filter
_TOPIC_ALREADY_EXISTS = 36

Binding = tuple[int, str, int, str, int]  # resource type, name, pattern, principal, operation


def bindings(accesses: Iterable[ServiceAccess], namespace: str = "") -> set[Binding]:
    """Every ALLOW the broker must hold, one per (resource, principal, operation)."""
    return {
        (
            _RESOURCE_TYPE[rule.resource_type],
            rule.name,
            _PATTERN[rule.pattern],
            f"User:{access.username}",
            _OPERATION[operation],
        )
        for access in accesses
        for rule in access.rules(namespace)
        for operation in rule.operations
    }


async def provision(
    bootstrap: str, admin_options: dict[str, Any], namespace: str = "", accesses: Iterable[ServiceAccess] = SERVICES
) -> None:
    """Create the installation's topics and grant each service its rights, as the administrator."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000, **admin_options)
    await admin.start()
    try:
        await _create_topics(admin, namespace)
        wanted = bindings(accesses, namespace)
        for resource_type, name, pattern, principal, operation in sorted(wanted - await _granted(admin)):
            request = CreateAclsRequest(resource_type, name, pattern, principal, "*", operation, _ALLOW)
            response = await admin._send_request(request)
            for error_code, message in response.creation_responses:
                if error_code:
                    raise for_code(error_code)(f"granting {principal} on {name}: {message}")
        # The broker applies what the controller committed a moment later; services start after it has.
        async with asyncio.timeout(30):
            while not wanted <= await _granted(admin):
                await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def _granted(admin: AIOKafkaAdminClient) -> set[Binding]:
    request = DescribeAclsRequest(_ANY, None, _ANY, None, None, _ANY, _ALLOW)
    response = await admin._send_request(request)
    if response.error_code:
        raise for_code(response.error_code)(response.error_message)
    return {
        (resource_type, name, pattern, principal, operation)
        for resource_type, name, pattern, acls in response.resources
        for principal, _host, operation, _permission in acls
    }


async def _create_topics(admin: AIOKafkaAdminClient, namespace: str) -> None:
    brokers = len((await admin.describe_cluster())["brokers"])
    existing = set(await admin.list_topics())
    missing = [
        NewTopic(
            name=topic.qualified(namespace),
            num_partitions=topic.partitions,
            replication_factor=min(3, brokers),
            topic_configs=topic.config(),
        )
        for topic in provisioned_topics()
        if topic.qualified(namespace) not in existing
    ]
    if not missing:
        return
    response = await admin.create_topics(missing)
    for name, error_code, *_ in response.topic_errors:
        if error_code and error_code != _TOPIC_ALREADY_EXISTS:
            raise for_code(error_code)(f"creating topic {name}")
    names = [topic.name for topic in missing]
    async with asyncio.timeout(30):  # usable once every partition has a leader
        while not all(
            described.get("error_code", 0) == 0
            and described["partitions"]
            and all(p["leader"] >= 0 for p in described["partitions"])
            for described in await admin.describe_topics(names)
        ):
            await asyncio.sleep(0.1)


def start_broker(namespace: str = "", port: int = kafka.ACLS_PORT, directory: Path | None = None) -> kafka.ScramBroker:
    """The broker with SASL/SCRAM and ACLs, a user for every service, and the installation's topics and ACLs."""
    broker = kafka.start_with_acls([access.username for access in SERVICES], port, directory)
    asyncio.run(provision(broker.bootstrap, broker.client_options(), namespace))
    return broker


def env_settings(broker: kafka.ScramBroker) -> str:
    """`.env` lines: how to sign in, each service's own credentials, and the administrator's as the shared
    ones, for what is no service: the operations command and the demo."""
    lines = [
        "# Kafka with SASL/SCRAM and ACLs: each service signs in as itself (<SERVICE>_KAFKA_SASL_*).",
        f"KAFKA_SECURITY_PROTOCOL={broker.client_options()['security_protocol']}",
        f"KAFKA_SASL_MECHANISM={kafka.SCRAM_MECHANISM}",
        f"KAFKA_SASL_USERNAME={kafka.ADMIN}",
        f"KAFKA_SASL_PASSWORD={broker.credentials[kafka.ADMIN]}",
    ]
    for access in SERVICES:
        prefix = f"{access.service.upper()}_KAFKA_SASL"
        lines += [f"{prefix}_USERNAME={access.username}", f"{prefix}_PASSWORD={broker.credentials[access.username]}"]
    return "\n".join([*lines, ""])
