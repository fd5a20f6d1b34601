"""Group commit on the real broker and database: concurrent contacts share transactions, each is answered
only once Kafka committed it, and a contact Kafka did not commit leaves nothing anywhere."""

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import topics as contract_topics
from onestop.contracts.events.contacts import ContactReceived
from tests.intake.conftest import RunningIntake, committed_events
from tests.support import bearer, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")


def a_report(n: int) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"name": f"Resident {n}", "email": f"resident{n}@example.org"},
        "needs": [{"kind": "report_problem", "service_code": "587", "description": f"Fly-tip number {n}"}],
    }


async def contacts_on_the_log(intake: RunningIntake, at_least: int) -> list[ContactReceived]:
    """What a read_committed consumer sees, once it sees `at_least` contacts: Kafka writes a transaction's
    commit markers just after confirming the commit, so its records become visible a moment later."""

    async def visible() -> list[ContactReceived] | None:
        events = await committed_events(intake.settings.kafka_bootstrap_servers, intake.topic(contract_topics.CONTACTS))
        contacts = [e.data for e in events if isinstance(e.data, ContactReceived)]
        return contacts if len(contacts) >= at_least else None

    return await eventually(visible)


async def test_fifty_concurrent_contacts_are_each_committed_once_in_fewer_transactions(intake: RunningIntake) -> None:
    group_commit = intake.app.state.group_commit
    before = group_commit.batches_committed

    answers = await asyncio.gather(
        *(intake.client.post("/contacts", json=a_report(n), headers=DESKTOP) for n in range(50))
    )

    assert [a.status_code for a in answers] == [201] * 50
    answered = sorted(a.json()["contact_id"] for a in answers)
    on_the_log = sorted(str(c.contact_id) for c in await contacts_on_the_log(intake, 50))
    assert on_the_log == answered, "every answered contact is on the log exactly once"
    transactions = group_commit.batches_committed - before
    assert 1 <= transactions < 50
    assert await intake.pool.fetchval("SELECT count(*) FROM customers") == 50


async def test_a_publish_that_times_out_leaves_nothing_and_a_retry_makes_one_contact(
    start_intake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake: RunningIntake = await start_intake(intake_publish_timeout_seconds=1)
    marker = {"channel": "app", "needs": [{"kind": "report_problem", "service_code": "587"}]}
    warm = await intake.client.post("/contacts", json=marker, headers=DESKTOP)
    assert warm.status_code == 201
    headers = {**DESKTOP, "Idempotency-Key": "web-form-7731"}

    hung: list[AIOKafkaProducer] = []

    async def never_commits(producer: AIOKafkaProducer) -> None:
        hung.append(producer)  # every record of the transaction is acknowledged: they are on the broker
        await asyncio.Event().wait()  # but the commit is never confirmed

    with monkeypatch.context() as fault:
        fault.setattr(AIOKafkaProducer, "commit_transaction", never_commits)
        timed_out = await intake.client.post("/contacts", json=a_report(1), headers=headers)

    assert hung, "the records were acknowledged before the commit hung"
    assert timed_out.status_code == 503
    assert "nothing was kept" in timed_out.json()["detail"]
    assert await intake.pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    assert await intake.pool.fetchval("SELECT count(*) FROM customers") == 0
    assert await intake.pool.fetchval("SELECT count(*) FROM outbox") == 0
    second = await intake.client.post("/contacts", json=marker, headers=DESKTOP)
    assert second.status_code == 201
    assert sorted(str(c.contact_id) for c in await contacts_on_the_log(intake, 2)) == sorted(
        [warm.json()["contact_id"], second.json()["contact_id"]]
    ), "the timed-out contact's transaction was aborted, so no read_committed consumer sees it"

    retried = await intake.client.post("/contacts", json=a_report(1), headers=headers)
    again = await intake.client.post("/contacts", json=a_report(1), headers=headers)

    assert retried.status_code == 201 and again.json() == retried.json()
    contact_id = retried.json()["contact_id"]
    assert [str(c.contact_id) for c in await contacts_on_the_log(intake, 3)].count(contact_id) == 1
    assert await intake.pool.fetchval("SELECT count(*) FROM customers") == 1
    assert await intake.pool.fetchval("SELECT count(*) FROM idempotency_keys") == 1


async def test_a_refused_contact_in_a_batch_does_not_fail_the_others(start_intake: Any) -> None:
    # A batch of six closes as soon as it is full, long before its two seconds are up: all six share it.
    intake: RunningIntake = await start_intake(intake_group_commit_max_wait_ms=2000, intake_group_commit_max_contacts=6)
    group_commit = intake.app.state.group_commit
    used = {**DESKTOP, "Idempotency-Key": "used-before"}
    first = await intake.client.post("/contacts", json=a_report(0), headers=used)
    assert first.status_code == 201
    before = group_commit.batches_committed
    needs_high_assurance = {"channel": "web", "needs": [{"kind": "application", "service_code": "69"}]}

    good, refused, mismatched = await asyncio.gather(
        asyncio.gather(*(intake.client.post("/contacts", json=a_report(n), headers=DESKTOP) for n in range(1, 5))),
        intake.client.post("/contacts", json=needs_high_assurance, headers=DESKTOP),
        intake.client.post("/contacts", json=a_report(99), headers=used),
    )

    assert group_commit.batches_committed - before == 1
    assert [a.status_code for a in good] == [201] * 4
    assert refused.status_code == 422 and "verified to level high" in refused.json()["detail"]
    assert mismatched.status_code == 422 and "Idempotency-Key" in mismatched.json()["detail"]
    on_the_log = sorted(str(c.contact_id) for c in await contacts_on_the_log(intake, 5))
    assert on_the_log == sorted([first.json()["contact_id"], *(a.json()["contact_id"] for a in good)])
    assert await intake.pool.fetchval("SELECT count(*) FROM customers") == 5
