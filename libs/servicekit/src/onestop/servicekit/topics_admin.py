"""Create onestop's topics on a broker, idempotently, with the partitions and retention contracts set."""

import asyncio
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError  # type: ignore[import-untyped]

from onestop.contracts.topics import ALL_TOPICS, Topic
from onestop.servicekit.kafka_security import kafka_options


async def ensure_topics(bootstrap: str, namespace: str = "", topics: Iterable[Topic] = ALL_TOPICS) -> list[str]:
    """Create any missing topic; returns the qualified names. Replication follows the cluster size."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000, **kafka_options())
    await admin.start()
    try:
        brokers = len((await admin.describe_cluster())["brokers"])
        replication = min(3, brokers)
        existing = set(await admin.list_topics())
        wanted = {topic.qualified(namespace): topic for topic in topics}
        missing = [
            NewTopic(
                name=name,
                num_partitions=topic.partitions,
                replication_factor=replication,
                topic_configs=topic.config(),
            )
            for name, topic in wanted.items()
            if name not in existing
        ]
        if missing:
            refused: set[str] = set()
            try:
                response = await admin.create_topics(missing)
                # Under ACLs a service sees only the topics it uses and may create none: whoever provisioned
                # the installation made them, and the others are none of its business.
                refused = {
                    name for name, code, *_ in response.topic_errors if code == TopicAuthorizationFailedError.errno
                }
            except TopicAlreadyExistsError:
                pass  # another service created them first
            await _wait_for_leaders(admin, [t.name for t in missing if t.name not in refused])
        return list(wanted)
    finally:
        await admin.close()


async def delete_namespace_topics(bootstrap: str, namespace: str) -> None:
    """Delete every topic of an installation, test or benchmark run (all names start with `namespace`)."""
    if not namespace:
        raise ValueError("an empty namespace would name every topic on the broker")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_options())
    try:
        await admin.start()
        mine = [name for name in await admin.list_topics() if name.startswith(namespace)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], attempts: int = 50) -> None:
    """A new topic is usable once every partition has a leader."""
    for _ in range(attempts):
        described = await admin.describe_topics(names)
        if all(
            t.get("error_code", 0) == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"topics {names} have no leaders yet")
