"""Contacts through the real broker: many needs, idempotent retries, refusals and Kafka outages."""

from typing import Any
from uuid import UUID

import pytest
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]

from onestop.contracts import topics as contract_topics
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerIdentified
from onestop.contracts.identifiers import case_id_for, case_reference_for
from tests.intake.conftest import RunningIntake
from tests.support import bearer, eventually, read_events

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")

NEW_RESIDENT: dict[str, Any] = {
    "channel": "telephone",
    "taken_by": {"kind": "agent", "id": "agent-17", "team": "contact-centre"},
    "customer": {
        "name": "Jo Bloggs",
        "email": "jo.bloggs@example.org",
        "phone": "07700 900123",
        "address": "12 Abington Street, Northampton NN1 2AJ",
        "assurance": "medium",
    },
    "needs": [
        {
            "kind": "payment",
            "service_code": "L-CTDD",
            "description": "Set up council tax direct debit",
            "resolved_at_first_contact": True,
            "resolution": "Direct debit set up on the call",
        },
        {"kind": "service_request", "service_code": "526", "description": "New wheelie bin"},
        {"kind": "information", "service_code": "L-BINDAYS", "resolved_at_first_contact": True},
        {"kind": "information", "service_code": "21", "description": "List of childminders"},
        {
            "kind": "report_problem",
            "service_code": "564",
            "description": "Street light out outside no. 12",
            "location": {"latitude": 52.2371, "longitude": -0.8943, "address": "12 Abington Street"},
        },
    ],
}


async def test_the_new_resident_one_call_five_needs_one_contact(intake: RunningIntake) -> None:
    response = await intake.client.post("/contacts", json=NEW_RESIDENT, headers=DESKTOP)
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["needs"]) == 5
    for need in body["needs"]:
        assert "case_id" not in need  # a need may join a case already in hand; its reference leads there
        assert need["reference"] == case_reference_for(case_id_for(UUID(body["contact_id"]), UUID(need["need_id"])))

    [contact] = await read_events(
        intake.settings.kafka_bootstrap_servers, contract_topics.CONTACTS.qualified(intake.settings.topic_namespace), 1
    )
    assert isinstance(contact.data, ContactReceived)
    assert str(contact.data.contact_id) == body["contact_id"] == contact.subject
    assert [n.service_code for n in contact.data.needs] == ["L-CTDD", "526", "L-BINDAYS", "21", "564"]
    assert contact.data.customer is not None and str(contact.data.customer.customer_id) == body["customer_id"]
    [identified] = await read_events(
        intake.settings.kafka_bootstrap_servers, contract_topics.CUSTOMERS.qualified(intake.settings.topic_namespace), 1
    )
    assert isinstance(identified.data, CustomerIdentified) and identified.data.new_customer
    assert identified.causationid == contact.id


async def test_the_same_customer_is_recognised_on_another_channel(intake: RunningIntake) -> None:
    first = await intake.client.post("/contacts", json=NEW_RESIDENT, headers=DESKTOP)
    web = {
        "channel": "web",
        "customer": {"email": "JO.BLOGGS@example.org"},
        "needs": [{"kind": "report_problem", "service_code": "587", "description": "Fly-tip"}],
    }
    second = await intake.client.post("/contacts", json=web, headers=DESKTOP)
    assert second.json()["customer_id"] == first.json()["customer_id"]


async def test_a_retry_with_the_same_idempotency_key_publishes_nothing_new(intake: RunningIntake) -> None:
    headers = {**DESKTOP, "Idempotency-Key": "desk-17-call-0042"}
    first = await intake.client.post("/contacts", json=NEW_RESIDENT, headers=headers)
    again = await intake.client.post("/contacts", json=NEW_RESIDENT, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    changed = await intake.client.post("/contacts", json={**NEW_RESIDENT, "channel": "web"}, headers=headers)
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json()["detail"]
    fly_tip = {"channel": "app", "needs": [{"kind": "report_problem", "service_code": "587"}]}
    marker = await intake.client.post("/contacts", json=fly_tip, headers=DESKTOP)
    assert marker.status_code == 201
    contacts = await read_events(
        intake.settings.kafka_bootstrap_servers, contract_topics.CONTACTS.qualified(intake.settings.topic_namespace), 2
    )
    assert sorted(str(c.data.contact_id) for c in contacts) == sorted(  # type: ignore[attr-defined]
        [first.json()["contact_id"], marker.json()["contact_id"]]
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"needs": []}, "needs"),
        ({"channel": "carrier pigeon"}, "channel"),
        ({"needs": [{"kind": "report_problem", "service_code": "99999"}]}, "unknown service code"),
        ({"needs": [{"kind": "application", "service_code": "69"}]}, "verified to level high"),
        ({"needs": [{"kind": "complaint", "service_code": "587"}]}, "takes needs of kind"),
        ({"customer": {"email": "not-an-email"}}, "email"),
    ],
)
async def test_bad_contacts_get_422_with_the_reason(intake: RunningIntake, change: dict[str, Any], reason: str) -> None:
    response = await intake.client.post("/contacts", json={**NEW_RESIDENT, **change}, headers=DESKTOP)
    assert response.status_code == 422
    assert reason in response.text


async def test_no_token_no_contact(intake: RunningIntake) -> None:
    assert (await intake.client.post("/contacts", json=NEW_RESIDENT)).status_code == 401
    assert (await intake.client.post("/contacts", json=NEW_RESIDENT, headers=bearer("cases:read"))).status_code == 403


async def test_when_kafka_does_not_acknowledge_the_caller_gets_503_and_nothing_is_kept(start_intake: Any) -> None:
    intake: RunningIntake = await start_intake(intake_publish_timeout_seconds=2)
    admin = AIOKafkaAdminClient(bootstrap_servers=intake.settings.kafka_bootstrap_servers)
    await admin.start()
    contacts_topic = contract_topics.CONTACTS.qualified(intake.settings.topic_namespace)
    try:
        await admin.delete_topics([contacts_topic])

        async def deleted() -> bool:
            return contacts_topic not in await admin.list_topics()

        await eventually(deleted)
    finally:
        await admin.close()
    headers = {**DESKTOP, "Idempotency-Key": "during-outage"}
    response = await intake.client.post("/contacts", json=NEW_RESIDENT, headers=headers)
    assert response.status_code == 503
    assert "nothing was kept" in response.json()["detail"]
    pool = intake.app.state.runtime.pool
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    assert await pool.fetchval("SELECT count(*) FROM customers") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
