"""A batch of contacts on the real database: its keys and its customers' possible records are read ahead
and its writes held to the commit, and every contact is identified exactly as it would be one at a time."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onestop.intake.adapters.repositories import Ahead, IntakeRepositories
from onestop.intake.domain.identification import Identity
from tests.intake.conftest import RunningIntake
from tests.support import CountingConnection, bearer

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
EMAILS = [f"person{i}@example.org" for i in range(5)]
PHONES = [f"+4477009001{i:02d}" for i in range(5)]
NAMES = ["sam patel", "priya patel", "jo bloggs"]
POSTCODES = ["NN1 1AA", "NN1 2BB"]


def an_identity(rng: random.Random) -> Identity:
    """Details drawn from a few of each, so that records collide: matches, merges and households."""

    def maybe(values: list[str]) -> str | None:
        return rng.choice(values) if rng.random() < 0.5 else None

    identity = Identity(maybe(EMAILS), maybe(PHONES), maybe(["1001", "1002"]), maybe(NAMES), maybe(POSTCODES))
    return identity if not identity.is_empty else Identity(email=rng.choice(EMAILS))


async def everything(connection: Any) -> list[Any]:
    rows = await connection.fetch(
        "SELECT customer_id, email, phone, uprn, name, postcode, merged_into FROM customers ORDER BY customer_id"
    )
    return [dict(row) for row in rows]


@pytest.mark.parametrize("unforeseen", [False, True], ids=["all read ahead", "an identity not read ahead"])
@pytest.mark.parametrize("seed", range(4))
async def test_a_batch_identifies_every_contact_as_one_at_a_time_would(
    intake: RunningIntake, seed: int, unforeseen: bool
) -> None:
    rng = random.Random(seed)
    stored = [an_identity(rng) for _ in range(8)]
    contacts = [(an_identity(rng), uuid.UUID(int=rng.getrandbits(128)), rng.random() < 0.5) for _ in range(30)]
    if unforeseen:  # half way, someone the batch did not name: from then on the database answers
        contacts.insert(15, (Identity(email="someone.else@example.org"), uuid.uuid4(), True))
    async with intake.pool.acquire() as connection:
        await connection.executemany(
            "INSERT INTO customers (customer_id, email, phone, uprn, name, postcode, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (uuid.uuid4(), i.email, i.phone, i.uprn, i.name, i.postcode, datetime.now(UTC) - timedelta(days=n))
                for n, i in enumerate(stored)
            ],
        )
        outcomes = []
        for read_ahead in (False, True):
            transaction = connection.transaction()
            await transaction.start()
            repos = IntakeRepositories(connection)
            if read_ahead:
                await repos.read_ahead([Ahead(None, identity) for identity, _, _ in contacts[:30]])
            answers = [
                await repos.customers.identify(identity, new_id, verified=verified)
                for identity, new_id, verified in contacts
            ]
            await repos.flush()
            outcomes.append((answers, await everything(connection)))
            await transaction.rollback()
    (one_at_a_time, left_one_at_a_time), (batched, left_batched) = outcomes
    assert batched == one_at_a_time
    assert left_batched == left_one_at_a_time
    assert any(match is not None for _, match, _ in batched) and any(merged for _, _, merged in batched)


async def test_a_batch_of_contacts_costs_five_round_trips(intake: RunningIntake) -> None:
    """Claim the keys, read their answers, read the records; then write the new records and the answers."""
    people = [Identity(email=f"new.person{n}@example.org") for n in range(20)]
    keys = [("desk", f"key-{n}") for n in range(20)]
    async with intake.pool.acquire() as connection:
        counting = CountingConnection(connection)
        async with connection.transaction():
            repos = IntakeRepositories(counting)  # type: ignore[arg-type]
            await repos.read_ahead([Ahead(key, person) for key, person in zip(keys, people, strict=True)])
            for (client, key), person in zip(keys, people, strict=True):
                assert await repos.idempotency.claim(client, key) is None
                await repos.customers.identify(person, uuid.uuid4(), verified=False)
                await repos.idempotency.remember(client, key, "hash", 201, {"contact_id": key})
            await repos.flush()
        assert len(counting.statements) == 5
        assert await connection.fetchval("SELECT count(*) FROM customers") == 20
        assert await connection.fetchval("SELECT count(*) FROM idempotency_keys") == 20


def a_contact(email: str) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"name": "A Resident", "email": email},
        "needs": [{"kind": "report_problem", "service_code": "587", "description": "Fly-tip"}],
    }


async def test_one_new_person_contacting_four_times_at_once_is_one_customer(intake: RunningIntake) -> None:
    emails = [f"resident{n}@example.org" for n in range(5)] * 4
    answers = await asyncio.gather(
        *(intake.client.post("/contacts", json=a_contact(email), headers=DESKTOP) for email in emails)
    )
    assert [a.status_code for a in answers] == [201] * 20
    customers: dict[str, set[str]] = {}
    for email, answer in zip(emails, answers, strict=True):
        customers.setdefault(email, set()).add(answer.json()["customer_id"])
    assert all(len(ids) == 1 for ids in customers.values()), customers
    assert await intake.pool.fetchval("SELECT count(*) FROM customers") == 5


async def test_retries_of_one_request_at_once_are_answered_alike_and_recorded_once(intake: RunningIntake) -> None:
    headers = {**DESKTOP, "Idempotency-Key": "retry-at-once"}
    answers = await asyncio.gather(
        *(intake.client.post("/contacts", json=a_contact("once@example.org"), headers=headers) for _ in range(4)),
        *(intake.client.post("/contacts", json=a_contact(f"other{n}@example.org"), headers=DESKTOP) for n in range(8)),
    )
    assert [a.status_code for a in answers] == [201] * 12
    assert len({a.json()["contact_id"] for a in answers[:4]}) == 1
    assert await intake.pool.fetchval("SELECT count(*) FROM idempotency_keys") == 1


async def test_a_batch_whose_read_ahead_fails_is_taken_one_contact_at_a_time(
    intake: RunningIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(repos: IntakeRepositories, aheads: list[Ahead]) -> None:
        raise RuntimeError("the read ahead failed")

    monkeypatch.setattr(intake.app.state.group_commit, "prepare", failing)
    answers = await asyncio.gather(
        *(intake.client.post("/contacts", json=a_contact(f"careful{n}@example.org"), headers=DESKTOP) for n in range(5))
    )
    assert [a.status_code for a in answers] == [201] * 5
    assert await intake.pool.fetchval("SELECT count(*) FROM customers") == 5
