"""Staff limited to some service areas read the attachments of those areas' cases only: intake learns each
attachment's area from the CaseRaised of the need it came with. Until then, and for any other area, the
attachment is not found; staff who work across every area read it at once."""

from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import UUID, uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import CaseRaised
from onestop.contracts.events.common import Attachment, Channel, NeedKind
from onestop.contracts.identifiers import case_reference_for
from tests.intake.conftest import RunningIntake
from tests.support import bearer, eventually, publish_events

pytestmark = pytest.mark.integration


async def test_area_staff_read_the_attachments_of_their_areas_cases_only(intake: RunningIntake) -> None:
    message = EmailMessage()
    message["From"] = "Pat Resident <pat@example.org>"
    message["Subject"] = "Damp in the bathroom"
    message.set_content("Photo attached.")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 10, maintype="image", subtype="png", filename="damp.png")
    taken = await intake.client.post("/mailroom/messages", content=message.as_bytes(), headers=bearer("contacts:write"))
    assert taken.status_code == 201, taken.text
    [row] = await intake.pool.fetch("SELECT attachment_id FROM attachments")
    attachment_id: UUID = row["attachment_id"]
    path = f"/attachments/{attachment_id}"
    housing = bearer("cases:read", service_areas=["housing"])
    highways = bearer("cases:read", service_areas=["highways"])

    assert (await intake.client.get(path, headers=bearer("cases:read"))).status_code == 200
    assert (await intake.client.get(path, headers=housing)).status_code == 404  # no case yet: no area

    contact = taken.json()
    case_id = uuid4()
    raised = CaseRaised(
        case_id=case_id,
        reference=case_reference_for(case_id),
        raised_at=datetime.now(UTC),
        contact_id=UUID(contact["contact_id"]),
        need_id=UUID(contact["needs"][0]["need_id"]),
        channel=Channel.EMAIL,
        kind=NeedKind.REPORT_PROBLEM,
        service_code="141",
        service_area="housing",
        attachments=(
            Attachment(
                url=f"{intake.settings.intake_public_base_url}/attachments/{attachment_id}",
                media_type="image/png",
                size_bytes=18,
                filename="damp.png",
            ),
        ),
    )
    envelope = EventEnvelope.wrap(raised, source="/onestop/cases")
    await publish_events(intake.settings.kafka_bootstrap_servers, intake.settings.topic_namespace, envelope)

    async def readable_by_housing() -> bool:
        return (await intake.client.get(path, headers=housing)).status_code == 200

    await eventually(readable_by_housing, within=60)
    answer = await intake.client.get(path, headers=housing)
    assert answer.content.startswith(b"\x89PNG") and answer.headers["content-type"] == "image/png"
    other = await intake.client.get(path, headers=highways)
    assert other.status_code == 404 and str(attachment_id) in other.json()["detail"]
