"""No message blocks a partition, through the running services: each kind of message the runtime cannot
use is dead-lettered or handled as erased, and a normal contact sent right after it still becomes a case
and is acknowledged."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.back_office import WorkCompleted
from onestop.contracts.events.common import Channel, CustomerDetails, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.identifiers import case_id_for
from onestop.servicekit.personal_data import CustomerKeyring, install_keyring, new_kek, seal_envelope
from tests.e2e.conftest import System
from tests.support import bearer, case_of, eventually, read_records

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read")


def report(description: str, email: str, latitude: float) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"name": "Resident", "email": email},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": description,
                "location": {"latitude": latitude, "longitude": -0.9},
            }
        ],
    }


async def sealed_under_a_key_that_is_gone(bootstrap: str) -> tuple[ContactReceived, bytes, bytes, list[Any]]:
    """A contact sealed under a customer key the installation's key topic does not hold (as after erasure
    and compaction): the services can never open its personal data."""
    elsewhere = CustomerKeyring(bootstrap, new_kek(), f"elsewhere{uuid.uuid4().hex[:6]}.")
    await elsewhere.start()
    try:
        install_keyring(elsewhere)
        contact = ContactReceived(
            contact_id=uuid.uuid4(),
            channel=Channel.APP,
            received_at=datetime.now(UTC),
            customer=CustomerDetails(customer_id=uuid.uuid4(), name="Gone Away", email="gone@example.org"),
            needs=(
                Need(
                    need_id=uuid.uuid4(),
                    kind=NeedKind.REPORT_PROBLEM,
                    service_code="584",
                    description="Graffiti on the bridge",
                ),
            ),
        )
        record = encode_envelope(await seal_envelope(EventEnvelope.wrap(contact, source="/onestop/intake")))
    finally:
        install_keyring(None)
        await elsewhere.stop()
    return contact, record.key, record.value, list(record.headers)


async def test_every_kind_of_poison_is_set_aside_and_the_next_contact_becomes_a_case(system: System) -> None:
    bootstrap, ns = system.env["KAFKA_BOOTSTRAP_SERVERS"], system.namespace
    gone, key, value, headers = await sealed_under_a_key_that_is_gone(bootstrap)
    never_raised = WorkCompleted(
        case_id=uuid.uuid4(), system="waste-crm", work_item_id="W1", completed_at=datetime.now(UTC), outcome="done"
    )
    completion = encode_envelope(EventEnvelope.wrap(never_raised, source="/back-office/waste"))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        contacts = contract_topics.CONTACTS.qualified(ns)
        await producer.send_and_wait(contacts, key=key, value=b"{not json", headers=headers)
        await producer.send_and_wait(contacts, key=key, value=value, headers=headers)
        await producer.send_and_wait(
            contract_topics.BACK_OFFICE.qualified(ns),
            key=completion.key,
            value=completion.value,
            headers=list(completion.headers),
        )
        keys = contract_topics.CUSTOMER_KEYS.qualified(ns)
        await producer.send_and_wait(keys, key=b"not-a-customer", value=b"garbage")
        await producer.send_and_wait(keys, key=str(uuid.uuid4()).encode(), value=b"too short to be a key")
    finally:
        await producer.stop()

    async with httpx.AsyncClient(base_url=system.url("intake")) as intake:
        response = await intake.post(
            "/contacts", json=report("Graffiti after the poison", "next@example.org", 53.1), headers=DESKTOP
        )
    assert response.status_code == 201, response.text
    async with httpx.AsyncClient(base_url=system.url("cases"), headers=STAFF) as cases:
        await case_of(cases, response.json()["needs"][0]["reference"])

        async def raised(case: str) -> bool:
            return (await cases.get(f"/cases/{case}")).status_code == 200

        # The contact whose key is gone was handled as erased: its case exists, with no personal data.
        gone_case = str(case_id_for(gone.contact_id, gone.needs[0].need_id))
        await eventually(lambda: raised(gone_case), within=120)
        assert "gone@example.org" not in (await cases.get(f"/cases/{gone_case}")).text

    await eventually(lambda: _acknowledged(system, "next@example.org"), within=120)
    for service in ("intake", "routing", "cases", "notify", "analytics"):
        await system.healthy(service, within=30)

    dead = await read_records(bootstrap, contract_topics.dead_letter_topic("cases").qualified(ns), 2, within=60)
    reasons = [dict(r.headers)[contract_topics.DLQ_REASON].decode() for r in dead]
    assert any("not JSON" in reason for reason in reasons), reasons
    assert any(str(never_raised.case_id) in reason for reason in reasons), reasons


async def _acknowledged(system: System, email: str) -> bool:
    return await system.mail.count(email) > 0
