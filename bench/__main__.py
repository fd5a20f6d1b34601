"""`make bench` (python -m bench): every figure beside its reference, as JSON and a markdown table.

python -m bench --size smoke   # seconds; what CI runs
python -m bench --size small   # a few minutes
python -m bench --size full    # replay over a million events, cost growth at 10^4, 10^5, 10^6
"""

import argparse
import asyncio
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import event_store, intake, replay
from bench.stats import peak_rss_mb

SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"appends": 20, "batch": 10, "contacts": 40, "concurrency": 8, "replay": [2_000]},
    "small": {"appends": 300, "batch": 10, "contacts": 1_000, "concurrency": 16, "replay": [10_000, 100_000]},
    "full": {
        "appends": 1_000,
        "batch": 10,
        "contacts": 5_000,
        "concurrency": 32,
        "replay": [10_000, 100_000, 1_000_000],
    },
}
RESULTS = Path(__file__).parent / "results"
NOT_MEASURED = {
    "end_to_end": "not measured yet: sustained load through all five services with latency to the read model and "
    "to the notification needs the load driver that tests/e2e's system fixture is a start of",
    "scale_out": "not measured yet: one against two instances of each consuming service",
    "eventsourcing_peer": "not measured yet: the eventsourcing library's PostgreSQL recorder in its own environment",
}


def infrastructure() -> tuple[str, str]:
    from onestop.servicekit.settings import ServiceSettings

    settings = ServiceSettings()
    return settings.kafka_bootstrap_servers, settings.database_url


async def measure(size: str) -> dict[str, Any]:
    plan = SIZES[size]
    bootstrap, server_url = infrastructure()
    results: dict[str, Any] = {
        "size": size,
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    results["event_store"] = await event_store.run(server_url, plan["appends"], plan["batch"])
    results["intake"] = await intake.run(bootstrap, server_url, plan["contacts"], plan["concurrency"])
    results["replay"] = [await replay.run(bootstrap, server_url, events) for events in plan["replay"]]
    results["not_measured"] = NOT_MEASURED
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return results


def table(results: dict[str, Any]) -> str:
    store, api = results["event_store"], results["intake"]
    rows = [
        "| figure | onestop | reference | ratio | target |",
        "| --- | --- | --- | --- | --- |",
        f"| event store append (events/s, p99 ms per append of {store['events_per_append']}) | "
        f"{store['onestop_event_store']['per_second']} ({store['onestop_event_store']['p99_ms']} ms) | "
        f"raw asyncpg {store['raw_asyncpg_inserts']['per_second']} ({store['raw_asyncpg_inserts']['p99_ms']} ms) | "
        f"{store['ratio_to_raw']} | ≥ 0.7 |",
        f"| intake HTTP to Kafka ack (contacts/s, p99 ms) | {api['intake_http_to_kafka_ack']['per_second']} "
        f"({api['intake_http_to_kafka_ack']['p99_ms']} ms) | "
        f"bare producer {api['bare_aiokafka_producer']['per_second']} "
        f"({api['bare_aiokafka_producer']['p99_ms']} ms) | {api['ratio_to_bare']} | ≥ 0.5 |",
    ]
    for run in results["replay"]:
        rows.append(
            f"| analytics replay of {run['events']} events (events/s) | {run['analytics_rebuild']['per_second']} | "
            f"bare consumer {run['bare_aiokafka_consumer']['per_second']} | {run['ratio_to_bare']} | ≥ 0.5 |"
        )
        rows.append(
            f"| analytics replay of {run['events']} events, beside a reader that only decodes (events/s) | "
            f"{run['analytics_rebuild']['per_second']} | bare consumer decoding each event "
            f"{run['bare_consumer_decoding']['per_second']} | {run['ratio_to_decoding']} | (context) |"
        )
    for name, reason in results["not_measured"].items():
        rows.append(f"| {name.replace('_', ' ')} | {reason} | | | |")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = asyncio.run(measure(args.size))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "latest.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
