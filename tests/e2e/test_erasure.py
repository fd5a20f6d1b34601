"""Erasure in an immutable log, checked where the bytes are: after a customer is erased, neither the
broker's log files nor any service's database holds their name, email address or phone number in the
clear, while their case and the statistics remain."""

import asyncio
import secrets
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from onestop.localinfra import kafka
from onestop.servicekit.settings import with_database
from tests.e2e.conftest import System
from tests.support import bearer, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read")
ANALYST = bearer("analytics:read")


def _kafka_log_files(namespace: str) -> list[Path]:
    """The segment files of this test's topics on the local broker, or [] when the broker is elsewhere."""
    return [
        segment
        for node in kafka.running_nodes()
        for partition in (node.directory / "data").glob(f"{namespace}*")
        for segment in partition.glob("*.log")
    ]


async def _rows_holding(server_url: str, database: str, needles: list[str]) -> list[str]:
    """Every row of every table in `database` whose text holds one of `needles`, named by its table."""
    connection = await asyncpg.connect(with_database(server_url, database))
    try:
        tables = await connection.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
        )
        found = []
        for table in tables:
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            for row in await connection.fetch(f"SELECT t::text AS text FROM {name} t"):
                if any(needle.lower() in row["text"].lower() for needle in needles):
                    found.append(f"{name}: {row['text'][:200]}")
        return found
    finally:
        await connection.close()


async def test_erased_customer_is_nowhere_in_the_clear(system: System, postgres_url: str) -> None:
    tag = secrets.token_hex(4)
    name, email, phone = (
        f"Philippa Quartermain-{tag}",
        f"pq.{tag}@example.org",
        "07700 900" + str(int(tag, 16) % 1000).zfill(3),
    )
    contact = {
        "channel": "web",
        "customer": {"name": name, "email": email, "phone": phone},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Graffiti on the bus shelter",
                "location": {"latitude": 52.23, "longitude": -0.89},
            }
        ],
    }
    async with httpx.AsyncClient(base_url=system.url("intake")) as intake:
        response = await intake.post("/contacts", json=contact, headers=DESKTOP)
    assert response.status_code == 201, response.text
    customer_id = response.json()["customer_id"]
    case_id = response.json()["needs"][0]["case_id"]

    async with httpx.AsyncClient(headers=STAFF) as client:

        async def customer_view() -> dict | None:
            answer = await client.get(f"{system.url('cases')}/customers/{customer_id}")
            return answer.json() if answer.status_code == 200 and answer.json().get("cases") else None

        await eventually(customer_view, within=90)
        await eventually(lambda: _acknowledged(system, email), within=90)
        needles = [name, email, phone.replace(" ", ""), phone]
        held = [
            row
            for database in system.databases.values()
            for row in await _rows_holding(postgres_url, database, needles)
        ]
        assert held, "before erasure the scan finds their details where services keep them"

        erase = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from onestop.ops.cli import app; app()",
            "erase-customer",
            customer_id,
            "--basis",
            f"UK GDPR Art. 17 request {tag}",
            env=system.env,
        )
        assert await erase.wait() == 0

        async def forgotten() -> bool:
            answer = await client.get(f"{system.url('cases')}/customers/{customer_id}")
            return answer.status_code in (404, 410) or email not in answer.text

        await eventually(forgotten, within=90)

        async def nothing_left() -> bool:
            return not [
                row for db in system.databases.values() for row in await _rows_holding(postgres_url, db, needles)
            ]

        try:
            await eventually(nothing_left, within=60)
        except TimeoutError:
            leftovers = [
                f"{service} {row}"
                for service, database in system.databases.items()
                for row in await _rows_holding(postgres_url, database, needles)
            ]
            raise AssertionError("personal data left in the clear after erasure:\n" + "\n".join(leftovers)) from None

        # The case itself, and the statistics it feeds, remain.
        case = await client.get(f"{system.url('cases')}/cases/{case_id}")
        assert case.status_code == 200 and case.json()["case"]["case_id"] == case_id

    # Nor was it ever written to logs, traces or metrics, before or after erasure.
    await asyncio.sleep(2)  # the last spans and metrics reach the viewer within a second
    logged = "\n".join(path.read_text(errors="replace") for path in system.logs.glob("*.log"))
    traced = " ".join(f"{s.name} {s.attributes}" for spans in system.spans.traces.values() for s in spans)
    measured = " ".join(f"{p.name} {p.attributes}" for p in system.metrics.points.values())
    assert "POST /contacts" in traced and "Application startup complete" in logged, "the scan reads this run's"
    for needle in needles:
        assert needle not in logged, f"{needle!r} is in a service's log"
        assert needle not in traced, f"{needle!r} is in a span"
        assert needle not in measured, f"{needle!r} is in a metric"

    segments = _kafka_log_files(system.namespace)
    if segments:  # a local broker: read its files byte for byte
        raw = b"".join(segment.read_bytes() for segment in segments)
        assert b"Graffiti on the bus shelter" in raw, "the scan reads the segments that hold this test's events"
        for needle in needles:
            assert needle.encode() not in raw, f"{needle!r} is in the Kafka log in the clear"


async def _acknowledged(system: System, email: str) -> bool:
    return any(email in message["To"] for message in system.inbox.messages)
