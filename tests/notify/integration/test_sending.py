"""Sending that never loses a message: a claim whose sender died is sent after restart, a send cut off
mid-way is retried, and a repeat carries the same Message-ID so it can be recognised."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.notifications import NotificationFailed, NotificationSent
from onestop.notify.adapters.channels import message_id
from onestop.notify.mailcatcher import Inbox
from tests.notify.conftest import RunningNotify, free_port
from tests.notify.integration.test_notify_flow import mail_to, raised, resident, send
from tests.support import eventually, read_events

pytestmark = pytest.mark.integration


class CutOffInbox(Inbox):
    """Takes in the first message, then hangs up before saying it was accepted, as a server that dies or a
    network that drops mid-send; later messages are accepted as usual."""

    def __init__(self) -> None:
        super().__init__()
        self.cut_off: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.cut_off:
            return await super().handle_DATA(server, session, envelope)
        await super().handle_DATA(server, session, envelope)
        self.cut_off.append(self.messages.pop())
        server.transport.close()
        return "421 4.4.2 connection dropped"


async def sent_events(notify: RunningNotify, count: int) -> list[NotificationSent]:
    events = await read_events(
        notify.settings.kafka_bootstrap_servers,
        contract_topics.NOTIFICATIONS.qualified(notify.settings.topic_namespace),
        count,
    )
    return [e.data for e in events if isinstance(e.data, NotificationSent)]


async def test_a_notification_claimed_by_a_sender_that_died_is_sent_once_after_restart(start_notify: Any) -> None:
    notify: RunningNotify = await start_notify(run_sender=False, notify_claim_lease_seconds=1)
    envelope = EventEnvelope.wrap(raised(resident("once@example.org")), source="/onestop/cases")
    await send(notify, envelope, envelope)  # delivered twice: queued once
    units = notify.app.state.units

    async def claimed() -> list[Any]:
        # A sender claims the acknowledgement, then dies before the provider hears of it.
        async with units.begin() as uow:
            later = datetime.now(UTC) + timedelta(minutes=1)
            return await uow.repos.notifications.claim_due(later, 50, 1)

    [acknowledgement] = await eventually(claimed)
    await notify.stop()

    restarted: RunningNotify = await start_notify(notify_claim_lease_seconds=1)
    [mail] = await mail_to(restarted, "once@example.org", 1)
    assert mail["Message-ID"] == message_id(acknowledgement.notification_id)
    # A later case's mail arriving shows the sender has been round again since.
    await send(restarted, raised(resident("later@example.org")))
    await mail_to(restarted, "later@example.org", 1)
    assert len([m for m in restarted.inbox.messages if "once@example.org" in str(m["To"])]) == 1
    pool = restarted.app.state.runtime.pool
    row = await pool.fetchrow("SELECT status, attempts FROM notifications WHERE address = $1", "once@example.org")
    assert (row["status"], row["attempts"]) == ("sent", 2)
    sent = await sent_events(restarted, 4)  # two requested, two sent
    assert [s.provider_reference for s in sent if s.notification_id == acknowledgement.notification_id] == [
        message_id(acknowledgement.notification_id)
    ]


async def test_a_mail_server_that_hangs_up_mid_send_is_tried_again_with_the_same_message_id(
    start_notify: Any,
) -> None:
    inbox = CutOffInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        notify: RunningNotify = await start_notify(notify_smtp_port=controller.port)
        await send(notify, raised(resident("cut.off@example.org")))

        async def delivered() -> list[EmailMessage]:
            return inbox.messages

        [retried] = await eventually(delivered)
        [first] = inbox.cut_off
        assert str(retried["To"]) == "cut.off@example.org"
        assert retried["Message-ID"] == first["Message-ID"]  # the repeat is recognisable as the same message
        pool = notify.app.state.runtime.pool

        async def settled() -> Any:
            row = await pool.fetchrow("SELECT status, attempts, last_error FROM notifications")
            return row if row["status"] == "sent" else None

        row = await eventually(settled)
        assert row["attempts"] == 2 and "Unexpected EOF" in row["last_error"]  # why the first try was repeated
        [sent] = await sent_events(notify, 2)
        assert sent.provider_reference == retried["Message-ID"]
    finally:
        controller.stop()


async def test_an_interrupted_last_attempt_gives_up_and_falls_back_without_sending_again(start_notify: Any) -> None:
    notify: RunningNotify = await start_notify(run_sender=False, notify_max_attempts=1, notify_claim_lease_seconds=1)
    jo = resident("jo.last@example.org", address="1 High Street, Northampton")
    await send(notify, raised(jo))
    units = notify.app.state.units

    async def claimed() -> list[Any]:
        async with units.begin() as uow:
            return await uow.repos.notifications.claim_due(datetime.now(UTC) + timedelta(minutes=1), 50, 1)

    [acknowledgement] = await eventually(claimed)
    await notify.stop()

    restarted: RunningNotify = await start_notify(notify_max_attempts=1, notify_claim_lease_seconds=1)
    events = await read_events(
        restarted.settings.kafka_bootstrap_servers,
        contract_topics.NOTIFICATIONS.qualified(restarted.settings.topic_namespace),
        2,
    )
    [failed] = [e.data for e in events if isinstance(e.data, NotificationFailed)]
    assert failed.notification_id == acknowledgement.notification_id
    assert failed.fallback_method is not None and failed.fallback_method.value == "letter"
    assert "cut off" in failed.reason
    assert not [m for m in restarted.inbox.messages if "jo.last@example.org" in str(m["To"])]
