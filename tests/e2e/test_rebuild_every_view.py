"""`onestop rebuild <service>` for each of the five services: after real traffic (contacts through intake,
a duplicate report, an Open311 request, back-office progress and completion, an erasure), every service's
views are dropped and rebuilt from the log, and every table equals what the live service had kept.

Nothing is left out of the comparison but the servicekit's bookkeeping (outbox, inbox, migrations): the
views hold no processing-time column, and the service's own state must come through a rebuild untouched.
"""

import asyncio
import os
import sys
from typing import Any

import asyncpg
import httpx
import pytest

from onestop.servicekit.consumer_lag import by_group, group_lags
from onestop.servicekit.settings import with_database
from tests.e2e.conftest import System
from tests.support import bearer, case_of, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STREET_CLEANING = bearer("backoffice:write", "cases:read", service_areas=["street_cleaning"])
BOOKKEEPING = {"outbox", "inbox", "schema_migrations"}
GRAFFITI_SPOT = {"latitude": 52.23, "longitude": -0.89}

# The views of each service: each must have rows before the rebuild, or the comparison proves little.
VIEWS = {
    "intake": ['"public"."open311_requests"'],
    "routing": ['"public"."known_cases"'],
    "cases": ['"public"."case_summary"', '"public"."customer_contacts"'],
    "notify": ['"public"."cases"', '"public"."contacts"', '"public"."reporters"'],
    "analytics": ['"facts"."contacts"', '"facts"."needs"', '"facts"."assessments"', '"facts"."cases"'],
}

Snapshot = dict[str, list[str]]


def graffiti_report(name: str, email: str) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"name": name, "email": email},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Graffiti sprayed on the bus shelter",
                "location": GRAFFITI_SPOT,
            }
        ],
    }


async def snapshot(postgres_url: str, database: str) -> Snapshot:
    """Every table of the service (its fact schema too, for analytics), rows as sorted text."""
    connection = await asyncpg.connect(with_database(postgres_url, database))
    try:
        tables = await connection.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema IN ('public', 'facts') AND table_type = 'BASE TABLE'"
        )
        taken: Snapshot = {}
        for table in tables:
            if table["table_name"] in BOOKKEEPING:
                continue
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            rows = await connection.fetch(f"SELECT * FROM {name}")
            taken[name] = sorted(repr(sorted(dict(row).items())) for row in rows)
        return taken
    finally:
        await connection.close()


async def fetchval(postgres_url: str, database: str, query: str, *arguments: Any) -> Any:
    connection = await asyncpg.connect(with_database(postgres_url, database))
    try:
        return await connection.fetchval(query, *arguments)
    finally:
        await connection.close()


async def onestop(system: System, *arguments: str, database: str | None = None) -> str:
    """The operations command line, as an operator runs it (against one service's database, if named)."""
    running = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from onestop.ops.cli import app; app()",
        *arguments,
        env={**system.env, "DATABASE": database} if database else system.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await running.communicate()
    assert running.returncode == 0, err.decode()[-3000:]
    return out.decode()


async def test_every_service_rebuilds_its_views_from_the_log_as_they_were(system: System, postgres_url: str) -> None:
    site_key, site = os.environ["INTAKE_OPEN311_API_KEYS"].split(",")[0].split(":")
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), headers=DESKTOP, timeout=60) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), headers=STREET_CLEANING, timeout=60) as cases,
    ):
        first = await intake.post("/contacts", json=graffiti_report("Ada Rebuild", "ada.rebuild@example.org"))
        assert first.status_code == 201, first.text
        case_id = (await case_of(cases, first.json()["needs"][0]["reference"]))["case_id"]

        async def raised(case: str) -> bool:
            return (await cases.get(f"/cases/{case}")).status_code == 200

        # The same graffiti again, from someone else: linked to the first case as another reporter.
        again = await intake.post("/contacts", json=graffiti_report("Bo Rebuild", "bo.rebuild@example.org"))
        assert again.status_code == 201, again.text
        open311 = await intake.post(
            "/open311/v2/requests.json",
            data={
                "api_key": site_key,
                "service_code": "587",
                "lat": "52.3405",
                "long": "-0.7027",
                "description": "Mattress dumped in the lane",
                "email": "cy.rebuild@example.org",
            },
            headers={},
        )
        assert open311.status_code == 201, open311.text
        open311_case = await eventually(
            lambda: fetchval(
                postgres_url, system.databases["intake"], "SELECT case_id FROM open311_requests WHERE client = $1", site
            ),
            within=60,
        )
        await eventually(lambda: raised(str(open311_case)), within=120)

        progress = {"work_item_id": "SC-1", "note": "Booked for Tuesday", "public": True}
        reported = await cases.post(f"/back-office/cases/{case_id}/progress", json=progress)
        assert reported.status_code == 200, reported.text
        for case in (case_id, str(open311_case)):
            done = await cases.post(
                f"/back-office/cases/{case}/completed", json={"work_item_id": "SC-1", "outcome": "Cleared"}
            )
            assert done.status_code == 200, done.text
    # The second reporter is erased: a rebuild must not bring back what the erasure took away.
    await onestop(system, "erase-customer", again.json()["customer_id"], "--basis", "UK GDPR Art. 17 request R1")

    async def every_view_has_rows() -> bool:
        notify, intake_db = system.databases["notify"], system.databases["intake"]
        return (
            await fetchval(postgres_url, notify, "SELECT count(*) FROM cases WHERE closed_at IS NOT NULL") == 2
            and await fetchval(postgres_url, notify, "SELECT count(*) FROM reporters") == 1
            and await fetchval(postgres_url, intake_db, "SELECT bool_and(status = 'closed') FROM open311_requests")
            is True
            and await fetchval(postgres_url, system.databases["routing"], "SELECT count(*) FROM known_cases") == 2
            and await fetchval(postgres_url, system.databases["analytics"], "SELECT count(*) FROM facts.cases") == 2
        )

    await eventually(every_view_has_rows, within=120)
    looks: list[dict[str, Snapshot]] = []
    live = await eventually(lambda: settled(system, postgres_url, looks), within=120)
    for service, tables in VIEWS.items():
        assert all(live[service][table] for table in tables), f"every view of {service} has rows to rebuild"

    # Analytics swaps a whole fact schema in, so it is stopped first, as its rebuild asks.
    analytics = system.processes["analytics"]
    analytics.terminate()
    await analytics.wait()
    for service in ("intake", "routing", "cases", "notify", "analytics"):
        said = await onestop(system, "rebuild", service, database=system.databases[service])
        assert said.startswith("rebuilt"), said
        rebuilt = await snapshot(postgres_url, system.databases[service])
        for table, rows in live[service].items():
            assert rebuilt[table] == rows, f"{service} {table} rebuilt differs from the live one"
        assert rebuilt.keys() == live[service].keys()


async def settled(system: System, postgres_url: str, looks: list[dict[str, Snapshot]]) -> dict[str, Snapshot] | None:
    """Every table of every service, once every consumer has caught up and this look agrees with the last."""
    lags = by_group(await group_lags(system.env["KAFKA_BOOTSTRAP_SERVERS"], system.namespace))
    if any(lags.values()):
        return None
    looks.append({service: await snapshot(postgres_url, database) for service, database in system.databases.items()})
    return looks[-1] if len(looks) > 1 and looks[-1] == looks[-2] else None
