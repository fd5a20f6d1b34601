"""A photo or a scan uploaded on its own: checked by its bytes, kept, named by a contact's need, read back by
staff, and erased with its sender."""

from datetime import UTC, datetime
from typing import Any

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.customers import CustomerErased
from tests.intake.conftest import RunningIntake
from tests.support import bearer, eventually, publish_events

pytestmark = pytest.mark.integration

CHANNEL = bearer("contacts:write")
STAFF = bearer("cases:read")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


async def upload(intake: RunningIntake, content: bytes, media_type: str, name: str = "photo.png") -> Any:
    return await intake.client.post("/attachments", files={"file": (name, content, media_type)}, headers=CHANNEL)


async def test_an_uploaded_photo_is_kept_named_by_a_report_and_read_back_by_staff(intake: RunningIntake) -> None:
    answer = await intake.client.post(
        "/attachments", files={"file": ("C:\\Users\\pat\\pothole.png", PNG, "image/png")}, headers=CHANNEL
    )
    assert answer.status_code == 201, answer.text
    kept = answer.json()
    assert (kept["media_type"], kept["size_bytes"], kept["filename"]) == ("image/png", len(PNG), "pothole.png")
    fetched = await intake.client.get(f"/attachments/{kept['id']}", headers=STAFF)
    assert fetched.status_code == 200 and fetched.content == PNG and fetched.headers["content-type"] == "image/png"

    report = {
        "channel": "app",
        "customer": {"name": "Pat Resident", "email": "pat.uploads@example.org"},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Pothole",
                "attachments": [{k: kept[k] for k in ("url", "media_type", "size_bytes", "filename")}],
            }
        ],
    }
    taken = await intake.client.post("/contacts", json=report, headers=CHANNEL)
    assert taken.status_code == 201, taken.text
    subject = await intake.pool.fetchval("SELECT data_subject FROM attachments WHERE attachment_id = $1", kept["id"])
    assert str(subject) == taken.json()["customer_id"], "the report makes the photo its sender's"

    erasure = CustomerErased(customer_id=subject, erased_at=datetime.now(UTC), legal_basis="UK GDPR Art. 17")
    settings = intake.settings
    await publish_events(
        settings.kafka_bootstrap_servers, settings.topic_namespace, EventEnvelope.wrap(erasure, source="/tests")
    )

    async def gone() -> bool:
        return (await intake.client.get(f"/attachments/{kept['id']}", headers=STAFF)).status_code == 404

    await eventually(gone)


async def test_bad_uploads_are_refused_with_the_reason(intake: RunningIntake) -> None:
    not_a_photo = await upload(intake, b"MZ\x90\x00 an executable", "image/png", "photo.png")
    assert not_a_photo.status_code == 415 and "accepted types" in not_a_photo.json()["detail"]
    disguised = await upload(intake, PDF, "image/jpeg", "scan.jpg")
    assert disguised.status_code == 415 and "declared image/jpeg" in disguised.json()["detail"]
    empty = await upload(intake, b"", "image/png")
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    too_large = await upload(intake, PNG + b"0" * (10 * 1024 * 1024), "image/png")
    assert too_large.status_code == 413 and "MiB" in too_large.json()["detail"]
    no_file = await intake.client.post("/attachments", data={"other": "x"}, headers=CHANNEL)
    assert no_file.status_code == 422
    staff_only = await intake.client.post(
        "/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=STAFF
    )
    assert staff_only.status_code == 403
    assert await intake.pool.fetchval("SELECT count(*) FROM attachments") == 0, "nothing refused is kept"


async def test_an_upload_no_contact_names_in_time_is_dropped(intake: RunningIntake) -> None:
    abandoned, fresh, named = [(await upload(intake, PNG, "image/png")).json()["id"] for _ in range(3)]
    report = {
        "channel": "app",
        "customer": {"name": "Sam Resident", "email": "sam.uploads@example.org"},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Pothole by the school",
                "attachments": [
                    {
                        "url": f"{intake.settings.intake_public_base_url}/attachments/{named}",
                        "media_type": "image/png",
                        "size_bytes": len(PNG),
                    }
                ],
            }
        ],
    }
    assert (await intake.client.post("/contacts", json=report, headers=CHANNEL)).status_code == 201
    # Two of them went up two days ago: one a report named, one nobody did.
    await intake.pool.execute(
        "UPDATE attachments SET created_at = now() - interval '2 days' WHERE attachment_id = ANY($1::uuid[])",
        [abandoned, named],
    )

    async with intake.app.state.intake.units.begin() as uow:
        assert await uow.repos.attachments.drop_unclaimed(older_than_hours=24) == 1

    kept = {str(row["attachment_id"]) for row in await intake.pool.fetch("SELECT attachment_id FROM attachments")}
    assert kept == {fresh, named}
