"""Stories across the running services: Open311 as FixMyStreet-style sites use it (every channel's cases
listed with their public notes, the reporter's photo reaching the back office sealed, services that need a
verified customer not offered), every channel counted in channel shift, and a wrong merge of two customers
undone in the single customer view."""

import email.message
import os
from typing import Any

import httpx
import pytest

from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseHandedOff
from tests.e2e.conftest import System
from tests.intake.conftest import committed_events
from tests.support import bearer, case_of, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read")
ADMIN = bearer("customers:admin")
ANALYST = bearer("analytics:read")
STREET_CLEANING = bearer("backoffice:write", "cases:read", service_areas=["street_cleaning"])
PHOTO = "https://reports.example.org/photos/mattress-8812.jpeg"


def fly_tip(channel: str, customer: dict[str, Any], latitude: float) -> dict[str, Any]:
    return {
        "channel": channel,
        "customer": customer,
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "587",
                "description": "Sofa dumped behind the shops",
                "location": {"latitude": latitude, "longitude": -0.91},
            }
        ],
    }


async def test_open311_lists_every_channel_and_carries_the_photo(system: System, kafka_bootstrap: str) -> None:
    site_key = os.environ["INTAKE_OPEN311_API_KEYS"].split(",")[0].split(":")[0]
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), timeout=60) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), timeout=60) as cases,
    ):
        offered = {s["service_code"] for s in (await intake.get("/open311/v2/services.json")).json()}
        assert "587" in offered and "58" not in offered  # council tax needs a verified customer
        posted = await intake.post(
            "/open311/v2/requests.json",
            data={
                "api_key": site_key,
                "service_code": "587",
                "lat": "52.2405",
                "long": "-0.9027",
                "description": "Mattress dumped by the garages",
                "media_url": PHOTO,
            },
        )
        assert posted.status_code == 201, posted.text
        phoned = await intake.post(
            "/contacts", json=fly_tip("telephone", {"name": "Pat Caller"}, 52.31), headers=DESKTOP
        )
        assert phoned.status_code == 201, phoned.text
        [need] = phoned.json()["needs"]
        case_id = (await case_of(cases, need["reference"], STAFF))["case_id"]
        progress = {"work_item_id": "SC-8812", "note": "Crew booked for Thursday", "public": True}
        noted = await cases.post(f"/back-office/cases/{case_id}/progress", json=progress, headers=STREET_CLEANING)
        assert noted.status_code == 200, noted.text

        async def listed() -> dict[str, Any] | None:
            rows = (await intake.get("/open311/v2/requests.json?service_code=587")).json()
            row = next((r for r in rows if r["service_request_id"] == need["reference"]), None)
            return row if row and row["status_notes"] else None

        request = await eventually(listed, within=120)
        assert request["status_notes"] == "Crew booked for Thursday" and request["description"] is None
        assert "Pat Caller" not in (await intake.get("/open311/v2/requests.json")).text

    # The photo went to the back office with the hand-off, sealed like the rest of what the reporter said.
    topic = contract_topics.CASES.qualified(system.namespace)

    async def handed_off_with_a_photo() -> CaseHandedOff | None:
        events = await committed_events(kafka_bootstrap, topic, within=10)
        with_photos = [e.data for e in events if isinstance(e.data, CaseHandedOff) and e.data.attachments]
        return with_photos[0] if with_photos else None

    hand_off = await eventually(handed_off_with_a_photo, within=120)
    [photo] = hand_off.attachments
    assert photo.media_type == "image/jpeg" and photo.url is None and photo.sealed
    assert PHOTO not in hand_off.model_dump_json()


async def test_a_wrong_merge_is_undone_in_the_single_customer_view(system: System) -> None:
    jo = {"email": "jo.hughes@example.org", "assurance": "medium"}
    sam = {"phone": "07700 900777", "assurance": "medium"}
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), headers=DESKTOP, timeout=60) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), headers=STAFF, timeout=60) as cases,
    ):
        jo_id = (await intake.post("/contacts", json=fly_tip("web", jo, 52.21))).json()["customer_id"]
        sams_report = (await intake.post("/contacts", json=fly_tip("telephone", sam, 52.22))).json()
        sam_id = sams_report["customer_id"]
        sams_case = (await case_of(cases, sams_report["needs"][0]["reference"]))["case_id"]
        # An unverified form with Jo's email and Sam's phone merges nobody.
        claimed = fly_tip("web", {"email": jo["email"], "phone": sam["phone"]}, 52.23)
        assert (await intake.post("/contacts", json=claimed)).json()["customer_id"] == jo_id
        # A verified one does: the records are taken for one person, wrongly.
        verified = fly_tip("kiosk", {"email": jo["email"], "phone": sam["phone"], "assurance": "low"}, 52.24)
        assert (await intake.post("/contacts", json=verified)).json()["customer_id"] == jo_id

        async def jos_cases() -> set[str]:
            view = await cases.get(f"/customers/{jo_id}")
            return {c["case_id"] for c in view.json()["cases"]} if view.status_code == 200 else set()

        async def sams_case_shown_as_jos() -> bool:
            return sams_case in await jos_cases()

        await eventually(sams_case_shown_as_jos, within=120)
        undone = await intake.post(f"/customers/{sam_id}/unmerge", headers=ADMIN)
        assert undone.status_code == 200, undone.text

        async def separate_again() -> bool:
            return bool(await jos_cases()) and sams_case not in await jos_cases()

        await eventually(separate_again, within=120)
        sams_view = (await cases.get(f"/customers/{sam_id}")).json()
        assert sams_case in {c["case_id"] for c in sams_view["cases"]}


async def test_every_channel_counts_in_channel_shift(system: System) -> None:
    assisted = {
        "social_media": {"channel_details": {"platform": "facebook", "thread": "m-2291"}},
        "live_chat": {"channel_details": {"chat_session": "chat-2291"}},
        "councillor": {
            "on_behalf_of_councillor": "Cllr A. Member",
            "taken_by": {"kind": "councillor", "id": "cllr-member"},
            "channel_details": {"casework_ref": "MEM-118"},
        },
    }
    self_service = {
        "kiosk": {"channel_details": {"kiosk_id": "guildhall-2"}},
        "ivr": {"channel_details": {"ivr_menu": "bins>missed"}},
    }
    letter = email.message.EmailMessage()
    letter["From"] = "Mrs Jo Bloggs"  # a letter, signed: no email address
    letter["Subject"] = "Missed bin"
    letter["X-Onestop-Channel"] = "post"
    letter["X-Onestop-Postal-Address"] = "12 Abington Street, Northampton NN1 2AJ"
    letter.set_content("Our bin has not been emptied for two weeks.")
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), headers=DESKTOP, timeout=60) as intake,
        httpx.AsyncClient(base_url=system.url("analytics"), timeout=60) as analytics,
    ):
        for n, (channel, details) in enumerate({**assisted, **self_service}.items()):
            body = {**fly_tip(channel, {"email": f"{channel}@example.org"}, 52.1 + n / 100), **details}
            answer = await intake.post("/contacts", json=body)
            assert answer.status_code == 201, answer.text
        posted = await intake.post(
            "/mailroom/messages", content=letter.as_bytes(), headers={"Content-Type": "message/rfc822"}
        )
        assert posted.status_code == 201, posted.text

        async def counted() -> dict[str, Any] | None:
            figures = (await analytics.get("/measures/channel_mix", headers=ANALYST)).json()
            return figures if figures["contacts"] >= 6 else None

        figures = await eventually(counted, within=120)
    assert figures["by_channel"] == {channel: 1 for channel in [*assisted, *self_service, "post"]}
    assert figures["self_service"] == len(self_service)
