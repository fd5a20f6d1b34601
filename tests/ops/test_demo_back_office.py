"""The demo back office works the hand-offs of its own service areas and ignores the rest."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.back_office import HandOffAccepted, ProgressReported, WorkCompleted
from onestop.contracts.events.cases import CaseHandedOff
from onestop.contracts.events.common import HandOffModel
from onestop.ops.demo.back_office import DemoBackOffice
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import read_events

pytestmark = pytest.mark.integration


def handed_off(area: str) -> CaseHandedOff:
    return CaseHandedOff(
        case_id=uuid4(),
        reference="OS-TEST-0001",
        handed_off_at=datetime.now(UTC),
        hand_off_model=HandOffModel.CUSTOMER_ADVOCATE,
        service_code="587",
        service_area=area,
        team="street-scene",
        sla_due_at=datetime.now(UTC) + timedelta(days=3),
    )


async def test_demo_back_office_accepts_progresses_and_completes_its_own_cases(
    kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CASES, contract_topics.BACK_OFFICE])
    ours, not_ours = handed_off("street_cleaning"), handed_off("planning")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for event in (not_ours, ours):
            record = encode_envelope(EventEnvelope.wrap(event, source="/onestop/cases"))
            await producer.send_and_wait(
                contract_topics.CASES.qualified(namespace),
                value=record.value,
                key=record.key,
                headers=list(record.headers),
            )
    finally:
        await producer.stop()

    stop = asyncio.Event()
    office = DemoBackOffice(kafka_bootstrap, namespace, areas=("street_cleaning",), speed=200)
    running = asyncio.create_task(office.run(stop))
    try:
        reports = await read_events(kafka_bootstrap, contract_topics.BACK_OFFICE.qualified(namespace), 3, within=60)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)

    assert [type(e.data) for e in reports] == [HandOffAccepted, ProgressReported, WorkCompleted]
    assert {e.data.case_id for e in reports} == {ours.case_id}
    assert len({e.data.work_item_id for e in reports}) == 1
