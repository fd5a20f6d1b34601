"""Erasure in intake's own tables: an Open311 request keeps its status but loses what its reporter wrote
and where, and an attachment that came with a contact is deleted with its sender's data."""

from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.customers import CustomerErased
from tests.intake.conftest import RunningIntake
from tests.support import bearer, eventually, publish_events

pytestmark = pytest.mark.integration


async def erase(intake: RunningIntake, subject: object) -> None:
    erased = CustomerErased(customer_id=subject, erased_at=datetime.now(UTC), legal_basis="UK GDPR Art. 17")  # type: ignore[arg-type]
    settings = intake.settings
    await publish_events(
        settings.kafka_bootstrap_servers, settings.topic_namespace, EventEnvelope.wrap(erased, source="/onestop/ops")
    )


async def test_an_open311_reporters_words_and_address_go_with_them(intake: RunningIntake) -> None:
    site_key = next(iter(intake.settings.open311_clients()))
    form = {
        "api_key": site_key,
        "service_code": "587",
        "lat": "52.2405",
        "long": "-0.9027",
        "address_string": "12 Ockham Lane",
        "description": "Mattress dumped outside number 12, where Ada lives",
        "media_url": "https://photos.example/ada/mattress.jpg",
        "first_name": "Ada",
        "last_name": "Byron",
    }
    answer = await intake.client.post("/open311/v2/requests.json", data=form)
    assert answer.status_code == 201, answer.text
    token = answer.json()[0]["token"]
    row = await intake.pool.fetchrow("SELECT * FROM open311_requests WHERE token = $1::uuid", token)
    assert row["description"] and row["data_subject"] is not None, "unidentified: the contact's own subject"

    await erase(intake, row["data_subject"])

    async def cleared() -> bool:
        kept = await intake.pool.fetchrow("SELECT * FROM open311_requests WHERE token = $1::uuid", token)
        return kept["description"] is None

    await eventually(cleared)
    kept = await intake.pool.fetchrow("SELECT * FROM open311_requests WHERE token = $1::uuid", token)
    assert (kept["address"], kept["media_url"], kept["status_notes"]) == (None, None, None)
    assert (kept["service_code"], kept["status"]) == ("587", "open"), "the request itself stays"


async def test_an_attachment_goes_with_its_sender(intake: RunningIntake) -> None:
    message = EmailMessage()
    message["From"] = "Ada Byron <ada.byron@example.org>"
    message["Subject"] = "Graffiti on my wall"
    message["Message-ID"] = f"<{uuid4()}@mail.example>"
    message.set_content("Photo attached.")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"1" * 50, maintype="image", subtype="png", filename="wall.png")
    headers = {**bearer("contacts:write"), "Content-Type": "message/rfc822"}
    answer = await intake.client.post("/mailroom/messages", content=message.as_bytes(), headers=headers)
    assert answer.status_code == 201, answer.text
    customer_id = answer.json()["customer_id"]
    assert await intake.pool.fetchval("SELECT count(*) FROM attachments WHERE data_subject = $1::uuid", customer_id)

    await erase(intake, customer_id)

    async def deleted() -> bool:
        return not await intake.pool.fetchval("SELECT count(*) FROM attachments")

    await eventually(deleted)
