"""Erasure in notify's own tables: what it kept of a person (contact details, the outcome they were told,
addresses, message details and a provider's error quoting the address) goes, for a customer and for the
subject of a contact never identified; the rows that count stay."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from onestop.contracts.events.common import ContactMethod
from onestop.contracts.events.notifications import RecipientRole
from onestop.notify.domain.model import FollowedCase, QueuedNotification
from tests.notify.conftest import RunningNotify

pytestmark = pytest.mark.integration


def a_notification(case: FollowedCase, role: RecipientRole, recipient: str, address: str) -> QueuedNotification:
    return QueuedNotification(
        notification_id=uuid4(),
        notification_key=f"{case.case_id}:{recipient}",
        trigger_event_id=uuid4(),
        case_id=case.case_id,
        contact_id=case.contact_id,
        recipient_role=role,
        recipient_id=recipient,
        method=ContactMethod.EMAIL,
        address=address,
        template="progress",
        language="en",
        context={"name": "Nobody Known", "note": "Crew at 12 Ockham Lane on Monday"},
        data_subject=case.data_subject if role is not RecipientRole.CUSTOMER else UUID(recipient),
    )


@pytest.mark.parametrize("identified", [True, False])
async def test_an_erased_subject_leaves_nothing_of_theirs_in_notify(start_notify: object, identified: bool) -> None:
    notify: RunningNotify = await start_notify(run_sender=False)  # type: ignore[operator]
    units, pool = notify.app.state.units, notify.app.state.runtime.pool
    subject = uuid4()
    case = FollowedCase(
        case_id=uuid4(),
        contact_id=uuid4(),
        reference="OS-AAAA-BBBB",
        service_code="587",
        service_area="street_cleaning",
        customer_id=subject if identified else None,
        customer={"name": "Nobody Known", "email": "nobody@example.org"},
        ward="Castle",
        data_subject=subject,
    )
    follower = a_notification(case, RecipientRole.WARD_SUBSCRIBER, "resident-9", "follower@example.org")
    notifications = [follower]
    if identified:
        notifications.append(a_notification(case, RecipientRole.CUSTOMER, str(subject), "nobody@example.org"))
    async with units.begin() as uow:
        await uow.repos.cases.record_case(case)
        await uow.repos.cases.set_outcome(case.case_id, "Cleared from outside Nobody Known's gate")
        for notification in notifications:
            await uow.repos.notifications.add(notification, datetime.now(UTC))
    async with units.begin() as uow:
        for claimed in await uow.repos.notifications.claim_due(datetime.now(UTC), 10, 60):
            assert claimed.claim_id is not None
            await uow.repos.notifications.mark_failed(
                claimed.notification_id, claimed.claim_id, f"550 5.1.1 <{claimed.address}>: no such mailbox"
            )

    async with units.begin() as uow:
        await uow.repos.cases.forget_customer(subject)
        await uow.repos.notifications.forget_customer(subject)

    kept = await pool.fetchrow("SELECT customer, outcome, reference FROM cases WHERE case_id = $1", case.case_id)
    assert (kept["customer"], kept["outcome"], kept["reference"]) == (None, None, "OS-AAAA-BBBB")
    rows = await pool.fetch("SELECT address, context, last_error, status FROM notifications")
    assert len(rows) == len(notifications), "what counts stays"
    for row in rows:
        assert (row["address"], row["context"], row["last_error"]) == (None, "{}", None)
        assert row["status"] == "failed"
