"""The known cases within a batch, on the real database: what was read ahead, with the batch's own changes
laid over it, answers every question as the database itself would, and costs two round trips."""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onestop.contracts.events.cases import CaseOutcome
from onestop.contracts.events.common import Channel, Location, NeedKind
from onestop.routing.adapters.known_cases import Place, PostgresKnownCases
from onestop.routing.domain.known_case import KnownCase
from tests.routing.conftest import RunningRouting
from tests.support import CountingConnection

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SPOTS = [Location(latitude=52.2 + i * 0.0003, longitude=-0.9, uprn=f"10{i % 3}", usrn=f"20{i % 2}") for i in range(6)]
SERVICES = ["584", "587"]
RADIUS = 75.0


def a_case(rng: random.Random, minute: int, *, customers: list[uuid.UUID]) -> KnownCase:
    spot = rng.choice(SPOTS)
    return KnownCase(
        case_id=uuid.uuid4(),
        reference=f"OS-{uuid.uuid4().hex[:8]}",
        contact_id=uuid.uuid4(),
        need_id=uuid.uuid4(),
        customer_id=rng.choice([*customers, None]),
        service_code=rng.choice(SERVICES),
        service_area="street_cleaning",
        kind=NeedKind.REPORT_PROBLEM,
        channel=Channel.APP,
        opened_at=NOW - timedelta(minutes=minute),  # each its own minute: the order of every answer is defined
        closed_at=NOW - timedelta(seconds=minute) if rng.random() < 0.3 else None,
        outcome=None,
        latitude=spot.latitude if rng.random() < 0.8 else None,
        longitude=spot.longitude,
        uprn=spot.uprn if rng.random() < 0.5 else None,
        usrn=spot.usrn if rng.random() < 0.5 else None,
    )


@dataclass
class Batch:
    """A batch's questions and changes, decided before it runs, and what it will name for the read ahead."""

    steps: list[tuple[str, Any]]
    case_ids: list[uuid.UUID]
    customers: list[uuid.UUID]
    places: list[Place]


def a_batch(rng: random.Random, stored: list[KnownCase], customers: list[uuid.UUID], *, unforeseen: bool) -> Batch:
    steps: list[tuple[str, Any]] = []
    case_ids: list[uuid.UUID] = []
    places: list[Place] = []
    known = [case.case_id for case in stored]
    for n in range(40):
        kind = rng.choice(["report", "report", "raised", "close", "reopen", "get", "reference"])
        if kind == "report":  # a contact: its customer's cases, the duplicate search, maybe a new case
            new = a_case(rng, minute=-(n + 1), customers=customers)
            place = Place(new.service_code, rng.choice(SPOTS), RADIUS, NOW - timedelta(days=30))
            steps.append(("report", (new, place)))
            case_ids.append(new.case_id)
            places.append(place)
            known.append(new.case_id)
        elif kind in ("raised", "close", "reopen", "get"):
            case_id = rng.choice([*known, uuid.uuid4()])  # now and then a case routing never knew
            steps.append((kind, case_id))
            case_ids.append(case_id)
        else:
            steps.append(("reference", rng.choice(stored).reference))
    if unforeseen:  # a change the read ahead did not cover, half way: from then on the database answers
        steps.insert(20, ("close", uuid.uuid4()))
        steps.insert(21, ("report", (a_case(rng, minute=-100, customers=customers), places[0])))
    return Batch(steps, case_ids, [c for c in customers if rng.random() < 0.9], places)


async def run(known_cases: PostgresKnownCases, batch: Batch, stored: dict[uuid.UUID, KnownCase]) -> list[Any]:
    answers: list[Any] = []
    for kind, what in batch.steps:
        if kind == "report":
            new, place = what
            if new.customer_id is not None:
                answers.append(await known_cases.of_customer(new.customer_id, new.service_code))
            near = await known_cases.open_near(place.service_code, place.location, RADIUS, place.opened_since)
            answers.append(near)
            if not near:
                await known_cases.remember(new)
        elif kind == "raised":  # a case raised again: a case already known is left as it is
            await known_cases.remember(stored.get(what) or await known_cases.get(what) or _fresh(what))
        elif kind == "close":
            await known_cases.close(what, NOW, CaseOutcome.RESOLVED)
        elif kind == "reopen":
            await known_cases.reopen(what)
        elif kind == "get":
            answers.append(await known_cases.get(what))
        else:
            answers.append(await known_cases.by_reference(what))
    await known_cases.flush()
    return answers


def _fresh(case_id: uuid.UUID) -> KnownCase:
    """A case raised that routing never decided: the same in both runs."""
    return KnownCase(
        case_id=case_id,
        reference=f"OS-{case_id.hex[:8]}",
        contact_id=uuid.uuid5(case_id, "contact"),
        need_id=uuid.uuid5(case_id, "need"),
        customer_id=None,
        service_code="584",
        service_area="street_cleaning",
        kind=NeedKind.REPORT_PROBLEM,
        channel=Channel.APP,
        opened_at=NOW,
    )


async def everything(connection: Any) -> list[Any]:
    rows = await connection.fetch("SELECT * FROM known_cases ORDER BY case_id")
    return [dict(row) for row in rows]


@pytest.mark.parametrize("unforeseen", [False, True], ids=["all read ahead", "a change not read ahead"])
@pytest.mark.parametrize("seed", range(4))
async def test_a_batch_read_ahead_answers_and_writes_as_the_database_would(
    routing: RunningRouting, seed: int, unforeseen: bool
) -> None:
    rng = random.Random(seed)
    customers = [uuid.uuid4() for _ in range(4)]
    stored = [a_case(rng, minute=m, customers=customers) for m in range(1, 60)]
    batch = a_batch(rng, stored, customers, unforeseen=unforeseen)
    pool = routing.app.state.runtime.pool
    async with pool.acquire() as connection:
        plain = PostgresKnownCases(connection)
        for case in stored:
            await plain.remember(case)
        await plain.flush()

        outcomes = []
        for read_ahead in (False, True):
            transaction = connection.transaction()
            await transaction.start()
            known_cases = PostgresKnownCases(connection)
            if read_ahead:
                await known_cases.read_ahead(batch.case_ids, batch.customers, batch.places)
            answers = await run(known_cases, batch, {case.case_id: case for case in stored})
            outcomes.append((answers, await everything(connection)))
            await transaction.rollback()
    (asked_one_by_one, left_one_by_one), (asked_ahead, left_ahead) = outcomes
    assert asked_ahead == asked_one_by_one
    assert left_ahead == left_one_by_one
    assert any(answer for answer in asked_ahead)  # the batch found something to compare


async def test_a_batch_of_contacts_costs_two_round_trips(routing: RunningRouting) -> None:
    """One to read ahead and one to write the new cases, however many contacts the batch holds."""
    rng = random.Random(7)
    customers = [uuid.uuid4() for _ in range(30)]
    reports = []
    for n in range(30):
        new = a_case(rng, minute=-n, customers=customers)
        reports.append((new, Place(new.service_code, Location(latitude=50 + n, longitude=-1.0), RADIUS, NOW)))
    pool = routing.app.state.runtime.pool
    async with pool.acquire() as connection:
        counting = CountingConnection(connection)
        known_cases = PostgresKnownCases(counting)  # type: ignore[arg-type]
        async with connection.transaction():
            await known_cases.read_ahead(
                [new.case_id for new, _ in reports], customers, [place for _, place in reports]
            )
            for new, place in reports:
                await known_cases.of_customer(customers[0], new.service_code)
                assert await known_cases.open_near(new.service_code, place.location, RADIUS, NOW) == []
                await known_cases.remember(new)
                assert await known_cases.get(new.case_id) == new
            await known_cases.flush()
        assert len(counting.statements) == 2
        assert await connection.fetchval("SELECT count(*) FROM known_cases") == 30
