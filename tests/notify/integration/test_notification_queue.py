"""The notification queue on the real database: two senders never claim the same row, and a claim whose
sender went quiet is due again once its lease is up, after which the old claim can settle nothing."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from onestop.contracts.events.common import ContactMethod
from onestop.contracts.events.notifications import RecipientRole
from onestop.notify.adapters.notification_queue import NotificationQueue
from onestop.notify.app import MIGRATIONS
from onestop.notify.domain.model import QueuedNotification
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, drop_database, open_service_database
from tests.support import eventually

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


@pytest.fixture
async def pool(postgres_url: str) -> AsyncIterator[asyncpg.Pool]:
    database = f"test_notify_queue_{uuid.uuid4().hex[:10]}"
    pool = await open_service_database(postgres_url, database, [SERVICEKIT_MIGRATIONS, MIGRATIONS])
    yield pool
    await pool.close()
    await drop_database(postgres_url, database)


def a_notification(n: int) -> QueuedNotification:
    return QueuedNotification(
        notification_id=uuid4(),
        notification_key=f"key-{n}",
        trigger_event_id=uuid4(),
        case_id=uuid4(),
        contact_id=uuid4(),
        recipient_role=RecipientRole.CUSTOMER,
        recipient_id=str(uuid4()),
        method=ContactMethod.EMAIL,
        address=f"person.{n}@example.org",
        template="acknowledgement",
        language="en",
    )


async def queue(pool: asyncpg.Pool, count: int) -> None:
    async with pool.acquire() as connection:
        for n in range(count):
            assert await NotificationQueue(connection).add(a_notification(n), NOW - timedelta(seconds=1))


async def test_two_senders_claiming_at_once_never_take_the_same_notification(pool: asyncpg.Pool) -> None:
    await queue(pool, 10)
    async with pool.acquire() as first, pool.acquire() as second, first.transaction(), second.transaction():
        mine = await NotificationQueue(first).claim_due(NOW, 6, 60)
        theirs = await NotificationQueue(second).claim_due(NOW, 6, 60)  # while the first still holds its rows
    claimed = [n.notification_id for n in mine + theirs]
    assert len(mine) == 6 and len(theirs) == 4
    assert len(set(claimed)) == 10


async def test_a_claim_is_due_again_only_after_its_lease_and_the_old_claim_then_settles_nothing(
    pool: asyncpg.Pool,
) -> None:
    await queue(pool, 1)
    async with pool.acquire() as connection:
        notifications = NotificationQueue(connection)
        [claimed] = await notifications.claim_due(NOW, 50, 60)
        assert await notifications.claim_due(NOW, 50, 60) == []  # a live claim is left alone

        async def taken_over() -> list[QueuedNotification]:
            return await notifications.claim_due(NOW, 50, 0.2)

        [again] = await eventually(taken_over)
        assert again.notification_id == claimed.notification_id and again.attempts == 2
        assert again.claim_id != claimed.claim_id
        assert claimed.claim_id is not None and again.claim_id is not None
        assert not await notifications.postpone(claimed.notification_id, claimed.claim_id, NOW, "too late")
        assert not await notifications.mark_failed(claimed.notification_id, claimed.claim_id, "too late")
        assert await notifications.mark_sent(again.notification_id, NOW)
        assert not await notifications.mark_sent(again.notification_id, NOW)  # recorded once
        assert await notifications.claim_due(NOW, 50, 0) == []


async def test_a_round_is_recorded_as_sent_together_and_each_notification_once(pool: asyncpg.Pool) -> None:
    await queue(pool, 3)
    async with pool.acquire() as connection:
        notifications = NotificationQueue(connection)
        claimed = [n.notification_id for n in await notifications.claim_due(NOW, 50, 60)]
        assert await notifications.mark_all_sent(claimed[:1], NOW) == set(claimed[:1])
        assert await notifications.mark_all_sent(claimed, NOW) == set(claimed[1:])  # the first was already
        assert await notifications.mark_all_sent(claimed, NOW) == set()
