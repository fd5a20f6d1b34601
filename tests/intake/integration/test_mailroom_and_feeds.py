"""The mail room's raw messages and the channel feeds, through the real broker."""

from email.message import EmailMessage
from uuid import uuid4

import pytest

from onestop.contracts import topics as contract_topics
from onestop.contracts.events.channels import CallAbandoned, CallAnswered, CallOffered, TicketIssued, TicketServed
from onestop.contracts.events.common import Channel
from onestop.contracts.events.contacts import ContactReceived
from onestop.servicekit.personal_data import open_envelope
from tests.intake.conftest import RunningIntake
from tests.support import bearer, read_events

pytestmark = pytest.mark.integration

MAILROOM = {**bearer("contacts:write"), "Content-Type": "message/rfc822"}


def an_email(subject: str, channel: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Pat Resident <pat@example.org>"
    message["To"] = "customer.services@council.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid4()}@example.org>"
    if channel:
        message["X-Onestop-Channel"] = channel
    message.set_content("The bin was not emptied again this week.\nPat")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 100, maintype="image", subtype="png", filename="bin.png")
    return message.as_bytes()


async def test_a_raw_email_with_an_attachment_about_an_existing_case(intake: RunningIntake) -> None:
    response = await intake.client.post(
        "/mailroom/messages", content=an_email("Re: OS-7KQ4-M2XD missed bin"), headers=MAILROOM
    )
    assert response.status_code == 201, response.text
    [sealed] = await read_events(
        intake.settings.kafka_bootstrap_servers, contract_topics.CONTACTS.qualified(intake.settings.topic_namespace), 1
    )
    on_the_log = sealed.data.model_dump_json()
    for personal in ("not emptied", "Pat Resident", "pat@example.org", "bin.png", "/attachments/"):
        assert personal not in on_the_log, f"{personal!r} is on the log in the clear"
    contact = await open_envelope(sealed)  # as every consumer reads it
    assert isinstance(contact.data, ContactReceived)
    assert contact.data.channel is Channel.EMAIL
    [need] = contact.data.needs
    assert need.about_reference == "OS-7KQ4-M2XD"
    assert "not emptied" in need.description
    [attachment] = need.attachments
    assert attachment.media_type == "image/png" and attachment.filename == "bin.png" and attachment.size_bytes == 108
    assert attachment.url is not None
    path = attachment.url.split("8001", 1)[-1]
    fetched = await intake.client.get(path, headers=bearer("cases:read"))
    assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")
    # The attachment belongs to the sender: erasing them deletes it.
    subject = await intake.pool.fetchval("SELECT data_subject FROM attachments")
    assert subject == contact.data.personal_subject()


async def test_a_scanned_letter_is_a_post_contact_and_a_resend_is_not_a_second_contact(intake: RunningIntake) -> None:
    letter = an_email("Broken street light", channel="post")
    first = await intake.client.post("/mailroom/messages", content=letter, headers=MAILROOM)
    again = await intake.client.post("/mailroom/messages", content=letter, headers=MAILROOM)
    assert first.json() == again.json(), "the Message-ID keys the message"
    [contact] = await read_events(
        intake.settings.kafka_bootstrap_servers, contract_topics.CONTACTS.qualified(intake.settings.topic_namespace), 1
    )
    assert contact.data.channel is Channel.POST  # type: ignore[attr-defined]


async def test_unreadable_or_unacceptable_mail_is_refused(intake: RunningIntake) -> None:
    assert (await intake.client.post("/mailroom/messages", content=b"", headers=MAILROOM)).status_code == 422
    message = EmailMessage()
    message["From"] = "pat@example.org"
    message["Subject"] = "macro"
    message.set_content("see attached")
    message.add_attachment(b"MZ...", maintype="application", subtype="x-msdownload", filename="run.exe")
    refused = await intake.client.post("/mailroom/messages", content=message.as_bytes(), headers=MAILROOM)
    assert refused.status_code == 422 and "not accepted" in refused.json()["detail"]


async def test_call_distributor_and_reception_feeds_become_channel_events(intake: RunningIntake) -> None:
    feeds = bearer("feeds:write")
    call, ticket = str(uuid4()), str(uuid4())
    posts = [
        (
            "/feeds/telephony",
            {"event": "offered", "call_id": call, "queue": "council-tax", "at": "2026-03-02T09:00:00Z"},
        ),
        (
            "/feeds/telephony",
            {
                "event": "answered",
                "call_id": call,
                "queue": "council-tax",
                "at": "2026-03-02T09:00:14Z",
                "wait_seconds": 14,
            },
        ),
        (
            "/feeds/telephony",
            {
                "event": "abandoned",
                "call_id": str(uuid4()),
                "queue": "waste",
                "at": "2026-03-02T09:01:00Z",
                "wait_seconds": 95,
            },
        ),
        (
            "/feeds/reception",
            {"event": "issued", "ticket_id": ticket, "site": "One Stop Shop", "at": "2026-03-02T10:00:00Z"},
        ),
        (
            "/feeds/reception",
            {
                "event": "served",
                "ticket_id": ticket,
                "site": "One Stop Shop",
                "at": "2026-03-02T10:07:00Z",
                "wait_seconds": 420,
            },
        ),
    ]
    for path, body in posts:
        response = await intake.client.post(path, json=body, headers=feeds)
        assert response.status_code == 202, response.text
    missing_wait = await intake.client.post(
        "/feeds/telephony", json={**posts[1][1], "wait_seconds": None}, headers=feeds
    )
    assert missing_wait.status_code == 422 and "wait_seconds" in missing_wait.text

    ns = intake.settings.topic_namespace
    calls = await read_events(intake.settings.kafka_bootstrap_servers, contract_topics.TELEPHONY.qualified(ns), 3)
    tickets = await read_events(intake.settings.kafka_bootstrap_servers, contract_topics.RECEPTION.qualified(ns), 2)
    assert sorted(type(e.data).__name__ for e in calls) == sorted(
        [CallOffered.__name__, CallAnswered.__name__, CallAbandoned.__name__]
    )
    assert [type(e.data) for e in tickets] == [TicketIssued, TicketServed]
    assert tickets[1].data.wait_seconds == 420  # type: ignore[attr-defined]
