"""Sending that never loses a message: a claim whose sender died is sent after restart, a send cut off
mid-way is retried, and a repeat carries the same Message-ID so it can be recognised."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.notifications import NotificationFailed, NotificationSent
from onestop.localinfra import mailpit
from onestop.notify.adapters.channels import SmtpEmail, message_id
from onestop.notify.domain.templates import Rendered
from onestop.servicekit.personal_data import open_envelope
from tests.notify.conftest import RunningNotify
from tests.notify.integration.test_notify_flow import mail_to, raised, resident, send
from tests.support import MailServer, eventually, read_events

pytestmark = pytest.mark.integration

END_OF_MESSAGE = b"\r\n.\r\n"  # SMTP's end of a message's data; dot-stuffing keeps it out of the text


class HangsUpOnTheFirstMessage:
    """Passes SMTP through to the mail server, except that the first message, once sent, is cut off before
    the server's acceptance gets back: the server has it, the sender cannot know, as when a network drops or
    a server dies mid-send. Later messages pass untouched."""

    def __init__(self, smtp_port: int) -> None:
        self.smtp_port = smtp_port
        self.hung_up = False

    async def relay(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.smtp_port)
        message_sent = asyncio.Event()

        async def to_server() -> None:
            last = b""
            while data := await client_in.read(65536):
                last = (last + data)[-len(END_OF_MESSAGE) :]
                if last == END_OF_MESSAGE:
                    message_sent.set()  # before it is passed on, so the answer cannot overtake it
                server_out.write(data)
                await server_out.drain()
            server_out.close()

        async def to_client() -> None:
            while data := await server_in.read(65536):
                if message_sent.is_set() and not self.hung_up:
                    self.hung_up = True
                    break
                client_out.write(data)
                await client_out.drain()
            client_out.close()

        with contextlib.suppress(ConnectionError):
            await asyncio.gather(to_server(), to_client())


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
    assert mail.message_id == message_id(acknowledgement.notification_id)
    # A later case's mail arriving shows the sender has been round again since.
    await send(restarted, raised(resident("later@example.org")))
    await mail_to(restarted, "later@example.org", 1)
    assert await restarted.mail.count("once@example.org") == 1
    pool = restarted.app.state.runtime.pool
    row = await pool.fetchrow("SELECT status, attempts FROM notifications WHERE address = $1", "once@example.org")
    assert (row["status"], row["attempts"]) == ("sent", 2)
    sent = await sent_events(restarted, 4)  # two requested, two sent
    assert [s.provider_reference for s in sent if s.notification_id == acknowledgement.notification_id] == [
        message_id(acknowledgement.notification_id)
    ]


async def test_a_mail_server_that_hangs_up_mid_send_is_tried_again_with_the_same_message_id(
    start_notify: Any, smtp: mailpit.Mailpit
) -> None:
    cutter = HangsUpOnTheFirstMessage(smtp.smtp_port)
    between = await asyncio.start_server(cutter.relay, "127.0.0.1", 0)
    try:
        notify: RunningNotify = await start_notify(notify_smtp_port=between.sockets[0].getsockname()[1])
        await send(notify, raised(resident("cut.off@example.org")))

        # The mail server got it twice: the first time, whose acceptance was cut off, and the retry.
        first, retried = await notify.mail.wait_for("cut.off@example.org", 2)
        assert cutter.hung_up
        assert retried.message_id == first.message_id  # the repeat is recognisable as the same message
        pool = notify.app.state.runtime.pool

        async def settled() -> Any:
            row = await pool.fetchrow("SELECT status, attempts, last_error FROM notifications")
            return row if row["status"] == "sent" else None

        row = await eventually(settled)
        assert row["attempts"] == 2 and "Unexpected EOF" in row["last_error"]  # why the first try was repeated
        [sent] = await sent_events(notify, 2)
        assert sent.provider_reference == retried.message_id
        assert await notify.mail.count("cut.off@example.org") == 2
    finally:
        between.close()


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
    # The reason is sealed on the log; opened as notify's consumers read it.
    [failed] = [(await open_envelope(e)).data for e in events if isinstance(e.data, NotificationFailed)]
    assert isinstance(failed, NotificationFailed)
    assert failed.notification_id == acknowledgement.notification_id
    assert failed.fallback_method is not None and failed.fallback_method.value == "letter"
    assert "cut off" in failed.reason
    assert await restarted.mail.count("jo.last@example.org") == 0


async def test_an_email_in_welsh_reaches_the_mailbox_word_for_word(smtp: mailpit.Mailpit) -> None:
    """Headers and text that are not ASCII are encoded for the journey and read back as they were written."""
    subject = "Rydym wedi derbyn eich adroddiad am dipio anghyfreithlon ger Heol y Bont — cyfeirnod OS-ABCD-EFGH"
    body = "Diolch am gysylltu â ni. Byddwn yn ysgrifennu atoch eto cyn dydd Iau.\n\nCyngor Sir — ŵ ŷ"
    rendered = Rendered(subject=subject, body=body, template="acknowledgement", language="cy", version="3")
    notification_id = uuid4()
    sent = await SmtpEmail("127.0.0.1", smtp.smtp_port, "Cyngor <council@onestop.example>").send(
        notification_id, "dafydd@example.org", rendered
    )
    assert sent == message_id(notification_id)
    mail = MailServer(smtp.url)
    [received] = await mail.wait_for("dafydd@example.org", 1)
    assert received.subject == subject and received.message_id == sent
    assert (await mail.text(received)).replace("\r\n", "\n").strip() == body
