"""An attachment is kept before routing settles which service area its need is for, so only staff who work
across every area may read it; a token limited to areas is refused with the reason."""

from email.message import EmailMessage

import pytest

from tests.intake.conftest import RunningIntake
from tests.support import bearer

pytestmark = pytest.mark.integration


async def test_a_token_limited_to_service_areas_cannot_read_attachments(intake: RunningIntake) -> None:
    message = EmailMessage()
    message["From"] = "Pat Resident <pat@example.org>"
    message["Subject"] = "Damp in the bathroom"
    message.set_content("Photo attached.")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 10, maintype="image", subtype="png", filename="damp.png")
    taken = await intake.client.post("/mailroom/messages", content=message.as_bytes(), headers=bearer("contacts:write"))
    assert taken.status_code == 201, taken.text
    [attachment_id] = [row["attachment_id"] for row in await intake.pool.fetch("SELECT attachment_id FROM attachments")]
    path = f"/attachments/{attachment_id}"

    assert (await intake.client.get(path, headers=bearer("cases:read"))).status_code == 200
    fenced = await intake.client.get(path, headers=bearer("cases:read", service_areas=["housing"]))
    assert fenced.status_code == 403 and "every service area" in fenced.json()["detail"]
