"""Writes the chart's Kafka contracts (deploy/helm/onestop/contracts/kafka.yaml) from onestop.contracts: every
topic with its partitions, retention and compaction (topics.py), and each service's ACLs (kafka_access.py).
The chart's KafkaTopic and KafkaUser templates read that file, so the cluster gets what the code declares.

    python deploy/helm/contracts.py          # write it
    python deploy/helm/contracts.py --check  # exit 1 if it is not what the contracts say (tests run this)
"""

import sys
from pathlib import Path
from typing import Any

import yaml

from onestop.contracts.kafka_access import SERVICES, provisioned_topics

OUTPUT = Path(__file__).parent / "onestop" / "contracts" / "kafka.yaml"
HEADER = (
    "# Written by deploy/helm/contracts.py from onestop.contracts (topics.py, kafka_access.py): do not edit.\n"
    "# Names are without the installation's namespace (values: topicNamespace), which the templates add.\n"
)
_PROBE = "namespace-probe."  # a namespace that shows which names the contracts prefix


def contracts() -> dict[str, Any]:
    topics = [
        {"name": topic.name, "partitions": topic.partitions, "config": topic.config()} for topic in provisioned_topics()
    ]
    users = []
    for access in SERVICES:
        acls = []
        for plain, probed in zip(access.rules(), access.rules(_PROBE), strict=True):
            acls.append(
                {
                    "type": plain.resource_type.value,
                    "name": plain.name,
                    "pattern": plain.pattern.value,
                    "namespaced": probed.name != plain.name,
                    "operations": [operation.value for operation in plain.operations],
                }
            )
        users.append(
            {"service": access.service, "username": access.username, "consumers": list(access.consumers), "acls": acls}
        )
    return {"topics": topics, "users": users}


def rendered() -> str:
    return HEADER + yaml.safe_dump(contracts(), sort_keys=False, width=120)


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        if not OUTPUT.exists() or OUTPUT.read_text() != rendered():
            print(f"{OUTPUT} is out of date: run `python deploy/helm/contracts.py`", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(rendered())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
