"""The duplicate search on the real database: it reaches the open cases near a report through an index,
however many cases of the service are open."""

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onestop.contracts.events.common import Location
from onestop.routing.adapters.known_cases import Place, PostgresKnownCases
from tests.routing.conftest import RunningRouting

pytestmark = pytest.mark.integration


class Explaining:
    """A connection whose reads return nothing but keep how many rows PostgreSQL read and threw away for them."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.rows_thrown_away: list[int] = []
        self.plans: list[str] = []

    async def fetch(self, sql: str, *args: object) -> list[Any]:
        [plan] = json.loads(await self.connection.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args))
        self.plans.append(json.dumps(plan))
        self.rows_thrown_away.append(_thrown_away(plan["Plan"]))
        return []


def _thrown_away(node: dict[str, Any]) -> int:
    own = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return int(own) + sum(_thrown_away(child) for child in node.get("Plans", []))


@pytest.mark.parametrize("read_ahead", [False, True], ids=["asked alone", "read ahead for a batch"])
@pytest.mark.parametrize("with_statistics", [True, False], ids=["analysed", "too new for statistics"])
@pytest.mark.parametrize(
    "location",
    [Location(latitude=52.2, longitude=-0.9), Location(latitude=52.2, longitude=-0.9, uprn="100", usrn="200")],
    ids=["a spot", "a spot, a property and a street"],
)
async def test_the_open_cases_near_a_report_are_found_without_reading_every_open_case(
    routing: RunningRouting, location: Location, with_statistics: bool, read_ahead: bool
) -> None:
    now = datetime.now(UTC)
    rows = [
        (uuid.uuid4(), f"R-{i}", uuid.uuid4(), uuid.uuid4(), "584", "street_cleaning", "report_problem", "app",
         now - timedelta(minutes=i), 51 + random.random() * 3, -2 + random.random() * 3, str(1000 + i), str(5000 + i))
        for i in range(20_000)
    ]  # fmt: skip
    pool = routing.app.state.runtime.pool
    async with pool.acquire() as connection:
        await connection.executemany(
            """INSERT INTO known_cases (case_id, reference, contact_id, need_id, service_code, service_area, kind,
                   channel, opened_at, latitude, longitude, uprn, usrn)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
            rows,
        )
        if with_statistics:
            await connection.execute("ANALYZE known_cases")
        explaining = Explaining(connection)
        known_cases = PostgresKnownCases(explaining)  # type: ignore[arg-type]
        since = now - timedelta(days=30)
        if read_ahead:  # with the ids and customers a batch names, which their own indexes answer
            await known_cases.read_ahead([uuid.uuid4()], [uuid.uuid4()], [Place("584", location, 75, since)])
        else:
            await known_cases.open_near("584", location, 75, since)
    [plan] = explaining.plans
    assert "Seq Scan" not in plan, plan
    assert explaining.rows_thrown_away[0] < 200, plan  # of 20,000 open cases of the service
