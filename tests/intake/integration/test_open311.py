"""An Open311 GeoReport v2 round trip, in JSON and XML, as a FixMyStreet-style site would make it."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4
from xml.etree import ElementTree

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseHandedOff,
    CaseOutcome,
    CaseProgressUpdated,
    CaseRaised,
    CaseResolved,
)
from onestop.contracts.events.common import Actor, Channel, CustomerDetails, HandOffModel, Location, NeedKind
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.servicekit.personal_data import open_envelope
from tests.intake.conftest import RunningIntake
from tests.support import eventually, publish_events, read_events

pytestmark = pytest.mark.integration


def site_key(intake: RunningIntake) -> str:
    """The API key of a reporting site this intake knows (INTAKE_OPEN311_API_KEYS)."""
    return next(iter(intake.settings.open311_clients()))


async def post_request(intake: RunningIntake, fmt: str = "json", **fields: str) -> object:
    form = {
        "api_key": site_key(intake),
        "service_code": "587",
        "lat": "52.2405",
        "long": "-0.9027",
        "description": "Mattress and bin bags dumped by the garages",
        "email": "reporter@example.org",
        "first_name": "Ali",
        "last_name": "Khan",
        "attribute[size]": "medium",
        **fields,
    }
    return await intake.client.post(f"/open311/v2/requests.{fmt}", data=form)


async def case_progress(intake: RunningIntake, token: str) -> str:
    """Play what the cases service would publish for the request behind `token`."""
    pool = intake.app.state.runtime.pool
    row = await pool.fetchrow("SELECT contact_id, need_id, case_id FROM open311_requests WHERE token = $1::uuid", token)
    case_id, now = row["case_id"], datetime.now(UTC)
    reference = case_reference_for(case_id)
    events = [
        CaseRaised(
            case_id=case_id,
            reference=reference,
            raised_at=now,
            contact_id=row["contact_id"],
            need_id=row["need_id"],
            channel=Channel.OPEN311,
            kind=NeedKind.REPORT_PROBLEM,
            service_code="587",
            service_area="street_cleaning",
        ),
        CaseHandedOff(
            case_id=case_id,
            reference=reference,
            handed_off_at=now,
            hand_off_model=HandOffModel.FIRE_AND_FORGET,
            service_code="587",
            service_area="street_cleaning",
            team="street-scene",
            sla_due_at=now,
        ),
    ]
    await publish_events(
        intake.settings.kafka_bootstrap_servers,
        intake.settings.topic_namespace,
        *[EventEnvelope.wrap(e, source="/onestop/cases") for e in events],
    )
    return reference


async def test_open311_round_trip_in_json(intake: RunningIntake) -> None:
    services = (await intake.client.get("/open311/v2/services.json")).json()
    fly_tip = next(s for s in services if s["service_code"] == "587")
    assert fly_tip["service_name"] == "Flytipping" and fly_tip["metadata"] is True and fly_tip["type"] == "batch"
    definition = (await intake.client.get("/open311/v2/services/587.json")).json()
    assert definition["service_code"] == "587"
    assert definition["attributes"][0]["code"] == "size"

    posted = await post_request(intake)
    assert posted.status_code == 201  # type: ignore[attr-defined]
    [answer] = posted.json()  # type: ignore[attr-defined]
    token = answer["token"]
    assert "working days" in answer["service_notice"]
    pending = (await intake.client.get(f"/open311/v2/tokens/{token}.json")).json()
    assert pending == [{"service_request_id": None, "token": token}]

    reference = await case_progress(intake, token)

    async def known() -> object:
        [row] = (await intake.client.get(f"/open311/v2/tokens/{token}.json")).json()
        return row["service_request_id"]

    assert await eventually(known) == reference

    async def handed_off() -> dict[str, Any] | None:
        [row] = (await intake.client.get(f"/open311/v2/requests/{reference}.json")).json()
        return row if row["agency_responsible"] else None

    request = await eventually(handed_off)
    assert request["status"] == "open" and request["service_code"] == "587"
    assert request["agency_responsible"] == "street-scene" and request["lat"] == 52.2405

    case_id = await intake.app.state.runtime.pool.fetchval(
        "SELECT case_id FROM open311_requests WHERE token = $1::uuid", token
    )
    now = datetime.now(UTC)
    await publish_events(
        intake.settings.kafka_bootstrap_servers,
        intake.settings.topic_namespace,
        EventEnvelope.wrap(
            CaseResolved(
                case_id=case_id, resolved_at=now, outcome="Cleared", resolved_by=Actor(kind="system", id="lob")
            ),
            source="/t",
        ),
        EventEnvelope.wrap(
            CaseClosed(case_id=case_id, closed_at=now, outcome=CaseOutcome.RESOLVED, service_area="street_cleaning"),
            source="/t",
        ),
    )

    async def closed() -> object:
        rows = (await intake.client.get("/open311/v2/requests.json?status=closed&service_code=587")).json()
        return rows

    [done] = await eventually(closed)
    assert done["service_request_id"] == reference and done["status_notes"] == "Cleared"
    assert (await intake.client.get("/open311/v2/requests.json?status=open")).json() == []


async def test_open311_speaks_xml_too(intake: RunningIntake) -> None:
    services = ElementTree.fromstring((await intake.client.get("/open311/v2/services.xml")).content)
    assert services.tag == "services" and services.find("service/service_code") is not None
    definition = ElementTree.fromstring((await intake.client.get("/open311/v2/services/524.xml")).content)
    assert definition.tag == "service_definition"
    assert definition.find("attributes/attribute/values/value/key") is not None
    posted = await post_request(intake, "xml")
    tree = ElementTree.fromstring(posted.content)  # type: ignore[attr-defined]
    token = tree.findtext("request/token")
    assert token
    reference = await case_progress(intake, token)

    async def listed() -> object:
        found = ElementTree.fromstring((await intake.client.get(f"/open311/v2/requests/{reference}.xml")).content)
        return found.findtext("request/service_request_id")

    assert await eventually(listed) == reference


@pytest.mark.parametrize(
    ("call", "code", "text"),
    [
        (lambda c: c.get("/open311/v2/services/nope.json"), 404, "no service"),
        (lambda c: c.get("/open311/v2/requests/OS-0000-0000.json"), 404, "no service request"),
        (lambda c: c.get("/open311/v2/requests.json?start_date=yesterday"), 400, "W3C"),
        (lambda c: c.get("/open311/v2/services.yaml"), 400, "'json' or 'xml'"),
    ],
)
async def test_errors_use_the_open311_error_format(intake: RunningIntake, call: object, code: int, text: str) -> None:
    response = await call(intake.client)  # type: ignore[operator]
    assert response.status_code == code
    [error] = response.json()
    assert error["code"] == code and text in error["description"]


async def test_posting_needs_a_valid_api_key_and_a_location(intake: RunningIntake) -> None:
    refused = await post_request(intake, api_key="guess")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    nowhere = await post_request(intake, lat="", long="")
    assert nowhere.status_code == 400 and "location" in nowhere.json()[0]["description"]  # type: ignore[attr-defined]
    xml_error = await post_request(intake, "xml", service_code="nope")
    assert ElementTree.fromstring(xml_error.content).findtext("error/code") == "400"  # type: ignore[attr-defined]


async def test_services_for_verified_customers_are_not_offered_to_open311_clients(intake: RunningIntake) -> None:
    listed = {s["service_code"] for s in (await intake.client.get("/open311/v2/services.json")).json()}
    assert "587" in listed and "58" not in listed  # council tax account enquiries need identity: medium
    assert (await intake.client.get("/open311/v2/services/58.json")).status_code == 404
    refused = await post_request(intake, service_code="58")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "not offered through Open311" in refused.json()[0]["description"]  # type: ignore[attr-defined]


async def test_requests_list_the_cases_of_every_channel_without_what_the_customer_said(intake: RunningIntake) -> None:
    now = datetime.now(UTC)

    def raised(channel: Channel, service_code: str, service_area: str) -> CaseRaised:
        contact_id, need_id = uuid4(), uuid4()
        case_id = case_id_for(contact_id, need_id)
        return CaseRaised(
            case_id=case_id,
            reference=case_reference_for(case_id),
            raised_at=now,
            contact_id=contact_id,
            need_id=need_id,
            channel=channel,
            kind=NeedKind.REPORT_PROBLEM,
            service_code=service_code,
            service_area=service_area,
            description="Fly-tip outside my house at 4 Acacia Avenue",
            location=Location(latitude=52.24, longitude=-0.90, address="4 Acacia Avenue"),
            customer=CustomerDetails(name="Pat Caller", phone="07700 900456"),
        )

    phoned, council_tax = raised(Channel.TELEPHONE, "587", "street_cleaning"), raised(Channel.WEB, "58", "revenues")
    noted = CaseProgressUpdated(
        case_id=phoned.case_id,
        updated_at=now,
        note="Crew booked for Thursday",
        public=True,
        data_subject=phoned.personal_subject(),
    )
    await publish_events(
        intake.settings.kafka_bootstrap_servers,
        intake.settings.topic_namespace,
        *[EventEnvelope.wrap(e, source="/onestop/cases") for e in (phoned, council_tax, noted)],
    )

    async def listed() -> dict[str, Any] | None:
        rows = (await intake.client.get("/open311/v2/requests.json")).json()
        row = next((r for r in rows if r["service_request_id"] == phoned.reference), None)
        return row if row and row["status_notes"] else None

    request = await eventually(listed)
    assert request["service_code"] == "587" and request["status"] == "open" and request["lat"] == 52.24
    assert request["status_notes"] == "Crew booked for Thursday"
    assert request["description"] is None and request["address"] is None
    everything = (await intake.client.get("/open311/v2/requests.json")).text
    assert council_tax.reference not in everything and "Acacia" not in everything and "Pat" not in everything


async def test_the_reporters_photo_travels_with_the_contact_sealed(intake: RunningIntake) -> None:
    photo = "https://reports.example.org/photo/8812.jpeg"
    posted = await post_request(intake, media_url=photo)
    assert posted.status_code == 201  # type: ignore[attr-defined]
    [sealed] = await read_events(
        intake.settings.kafka_bootstrap_servers, contract_topics.CONTACTS.qualified(intake.settings.topic_namespace), 1
    )
    assert photo not in sealed.data.model_dump_json()
    contact = await open_envelope(sealed)
    assert isinstance(contact.data, ContactReceived)
    [attachment] = contact.data.needs[0].attachments
    assert (attachment.url, attachment.media_type) == (photo, "image/jpeg")
    refused = await post_request(intake, media_url="file:///etc/passwd")
    assert refused.status_code == 400 and "media_url" in refused.json()[0]["description"]  # type: ignore[attr-defined]
