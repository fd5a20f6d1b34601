"""`make bench` (python -m bench): every figure beside its reference, as JSON and a markdown table.

python -m bench --size smoke   # seconds; what CI runs
python -m bench --size small   # a few minutes
python -m bench --size full    # replay over a million events, cost growth at 10^4, 10^5, 10^6
"""

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from bench import end_to_end, event_store, intake, kafka_limit, peer, replay, search
from bench.stats import peak_rss_mb

SIZES: dict[str, dict[str, Any]] = {
    "smoke": {
        "appends": 20,
        "batch": 10,
        "contacts": 40,
        "concurrency": 8,
        "replay": [2_000],
        "e2e": {"flood": 40, "seconds": 2, "runs": [(1, None)]},
        "kafka_limit": 2_000,
        "peer": False,
        "search_cases": 10_000,
    },
    "small": {
        "appends": 300,
        "batch": 10,
        "contacts": 3_000,
        "concurrency": 16,
        "replay": [10_000, 100_000],
        "e2e": {"flood": 1_500, "seconds": 15, "runs": [(1, None), (2, None), (1, 1.0)]},
        "kafka_limit": 20_000,
        "peer": True,
        "search_cases": 1_000_000,
    },
    "full": {
        "appends": 1_000,
        "batch": 10,
        "contacts": 5_000,
        "concurrency": 32,
        "replay": [10_000, 100_000, 1_000_000],
        "e2e": {"flood": 2_000, "seconds": 30, "runs": [(1, None), (2, None), (1, 1.0)]},
        "kafka_limit": 50_000,
        "peer": True,
        "search_cases": 1_000_000,
    },
}
RESULTS = Path(__file__).parent / "results"


def infrastructure() -> tuple[str, str]:
    from onestop.servicekit.settings import ServiceSettings

    settings = ServiceSettings()
    return settings.kafka_bootstrap_servers, settings.database_url


async def measure(size: str, search_cases: int | None = None) -> dict[str, Any]:
    plan = SIZES[size]
    bootstrap, server_url = infrastructure()
    results: dict[str, Any] = {
        "size": size,
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    results["event_store"] = await event_store.run(server_url, bootstrap, plan["appends"], plan["batch"])
    if plan["peer"]:
        # In the peer's own environment, installed from PyPI on first use; smoke runs leave it out.
        store = results["event_store"]
        store["peer"] = await peer.run(server_url, plan["appends"], plan["batch"])
        figures = store["peer"].get("eventsourcing_postgres_recorder")
        if figures and figures["per_second"]:
            store["ratio_to_peer"] = round(store["onestop_event_store"]["per_second"] / figures["per_second"], 3)
    results["intake"] = await intake.run(bootstrap, server_url, plan["contacts"], plan["concurrency"])
    results["replay"] = [await replay.run(bootstrap, server_url, events) for events in plan["replay"]]
    e2e = plan["e2e"]
    results["kafka_limit"] = await kafka_limit.run(bootstrap, plan["kafka_limit"])
    results["end_to_end"] = [
        await end_to_end.run(
            bootstrap,
            server_url,
            flood=e2e["flood"],
            seconds_per_level=e2e["seconds"],
            instances=instances,
            sample_ratio=ratio,
        )
        for instances, ratio in e2e["runs"]
    ]
    limit = results["kafka_limit"]["per_second"]
    for run in results["end_to_end"]:
        run["share_of_kafka_limit"] = round(run["maximum_contacts_per_second"] / limit, 3) if limit else None
    results["search"] = await search.run(server_url, search_cases or plan["search_cases"])
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
        f"({api['bare_aiokafka_producer']['p99_ms']} ms) | {api['ratio_to_bare']} | p99 < 100 ms at 16 callers |",
    ]
    saturated = api["saturated"]
    for processes, run in saturated.items():
        if processes == "concurrency":
            continue
        rows.append(
            f"| intake at its most, {saturated['concurrency']} callers, {processes.replace('_', ' ')} "
            f"(contacts/s, p99 ms) | {run['api']['per_second']} ({run['api']['p99_ms']} ms); "
            f"CPU per contact {run['cpu_ms_per_contact']['total']} ms | | | ≥ 1,500/s |"
        )
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
    limit = results["kafka_limit"]
    rows.append(
        f"| Kafka limit: the five-stage topology as bare aiokafka pass-through processes (messages/s) | "
        f"{limit['per_second']} | | | (reference) |"
    )
    for run in results["end_to_end"]:
        traced = "default sampling" if run["trace_sample_ratio"] is None else f"{run['trace_sample_ratio']:.0%} traced"
        rows.append(
            f"| end to end, {run['instances_per_service']} instance(s), {traced}: most contacts/s sustained | "
            f"{run['maximum_contacts_per_second']} | Kafka limit {limit['per_second']} | "
            f"{run['share_of_kafka_limit']} | ≥ 400/s; ≥ 0.25 |"
        )
        cpu = ", ".join(f"{name} {ms}" for name, ms in run["cpu_ms_per_contact"].items())
        rows.append(f"| end to end, {run['instances_per_service']} instance(s): CPU ms per contact | {cpu} | | | |")
        for level, figures in run["levels"].items():
            case, sent = figures["case_in_read_model_ms"], figures["notification_sent_ms"]
            rows.append(
                f"| end to end, {run['instances_per_service']} instance(s), {level} of "
                f"{run['maximum_contacts_per_second']} contacts/s: p50/p95/p99 ms to the case, to the notification | "
                f"{case['p50']}/{case['p95']}/{case['p99']}, {sent['p50']}/{sent['p95']}/{sent['p99']} | "
                f"offered {figures['offered_per_second']}/s | | p99 < 250 ms at 50% |"
            )
    figures = store.get("peer", {}).get("eventsourcing_postgres_recorder")
    if figures:
        rows.append(
            f"| event store append beside the eventsourcing library (events/s, p99 ms) | "
            f"{store['onestop_event_store']['per_second']} | {store['peer']['library']} PostgreSQL recorder "
            f"{figures['per_second']} ({figures['p99_ms']} ms) | {store['ratio_to_peer']} | ≥ 2 |"
        )
    elif "peer" in store:
        rows.append(f"| event store beside the eventsourcing library | {store['peer']['not_measured']} | | | |")
    if "search" in results:
        rows.append(search.table_row(results["search"]))
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--search-cases", type=int, help="cases held for the search figure (default: by size)")
    args = parser.parse_args()
    # uvloop, as the services run under uvicorn: the load generator must cost the shared cores little.
    results = uvloop.run(measure(args.size, args.search_cases))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "latest.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
