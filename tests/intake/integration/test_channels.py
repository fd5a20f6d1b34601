"""Every channel comes in: social media, web chat, kiosk, IVR and councillors through the contact API, and
letters through the mail room whether or not their writer has an email address."""

from email.message import EmailMessage
from typing import Any
from uuid import uuid4

import pytest

from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import Channel, ContactMethod
from onestop.contracts.events.contacts import ContactReceived
from onestop.servicekit.personal_data import open_envelope
from tests.intake.conftest import RunningIntake
from tests.support import bearer, read_events

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
MAILROOM = {**DESKTOP, "Content-Type": "message/rfc822"}

CHANNELS: list[dict[str, Any]] = [
    {"channel": "social_media", "channel_details": {"platform": "x", "handle_hash": "a81f", "public": "false"}},
    {"channel": "live_chat", "channel_details": {"chat_session": "chat-2291", "queue": "revenues"}},
    {"channel": "kiosk", "channel_details": {"kiosk_id": "guildhall-2"}},
    {"channel": "ivr", "channel_details": {"ivr_menu": "bins>missed", "call_id": "c-8812"}},
    {
        "channel": "councillor",
        "on_behalf_of_councillor": "Cllr A. Member",
        "taken_by": {"kind": "councillor", "id": "cllr-member", "name": "Cllr A. Member"},
        "channel_details": {"ward": "Abington", "casework_ref": "MEM-118"},
    },
]


async def contacts_on_the_log(intake: RunningIntake, count: int) -> list[ContactReceived]:
    topic = contract_topics.CONTACTS.qualified(intake.settings.topic_namespace)
    envelopes = await read_events(intake.settings.kafka_bootstrap_servers, topic, count)
    opened = [await open_envelope(e) for e in envelopes]
    return [e.data for e in opened if isinstance(e.data, ContactReceived)]


async def test_every_channel_comes_in_through_the_contact_api_with_its_details(intake: RunningIntake) -> None:
    for extra in CHANNELS:
        body = {
            **extra,
            "customer": {"email": f"{extra['channel']}@example.org"},
            "needs": [{"kind": "report_problem", "service_code": "587", "description": "Fly-tip by the shops"}],
        }
        answer = await intake.client.post("/contacts", json=body, headers=DESKTOP)
        assert answer.status_code == 201, answer.text
    contacts = await contacts_on_the_log(intake, len(CHANNELS))
    by_channel = {c.channel: c for c in contacts}
    assert set(by_channel) == {Channel(extra["channel"]) for extra in CHANNELS}
    for extra in CHANNELS:
        assert by_channel[Channel(extra["channel"])].channel_details == extra["channel_details"]
    assert by_channel[Channel.COUNCILLOR].on_behalf_of_councillor == "Cllr A. Member"


def a_letter(sender: str | None, postal_address: str | None = None) -> bytes:
    message = EmailMessage()
    if sender is not None:
        message["From"] = sender
    message["Subject"] = "Missed bin"
    message["Message-ID"] = f"<{uuid4()}@scanning.council.example>"
    message["X-Onestop-Channel"] = "post"
    if postal_address:
        message["X-Onestop-Postal-Address"] = postal_address
    message.set_content("Our bin has not been emptied for two weeks.")
    return message.as_bytes()


async def test_letters_without_an_email_address_are_accepted(intake: RunningIntake) -> None:
    signed = await intake.client.post(
        "/mailroom/messages",
        content=a_letter("Mrs Jo Bloggs", "12 Abington Street, Northampton NN1 2AJ"),
        headers=MAILROOM,
    )
    assert signed.status_code == 201, signed.text
    unsigned = await intake.client.post("/mailroom/messages", content=a_letter(None), headers=MAILROOM)
    assert unsigned.status_code == 201, unsigned.text
    contacts = await contacts_on_the_log(intake, 2)
    [from_jo] = [c for c in contacts if c.customer is not None]
    assert from_jo.channel is Channel.POST and from_jo.customer is not None
    assert from_jo.customer.name == "Mrs Jo Bloggs" and from_jo.customer.email is None
    assert from_jo.customer.address == "12 Abington Street, Northampton NN1 2AJ"
    assert from_jo.customer.preferred_contact_method is ContactMethod.LETTER
    # An email still needs an address to answer.
    email = EmailMessage()
    email["From"] = "Jo Bloggs"
    email["Subject"] = "Missed bin"
    email.set_content("Still not emptied.")
    refused = await intake.client.post("/mailroom/messages", content=email.as_bytes(), headers=MAILROOM)
    assert refused.status_code == 422
