"""A demo line-of-business system, built only on the published contracts, as a council's adapter would be.

It takes the hand-offs for the services it runs (waste, street cleaning, highways, housing repairs by
default), accepts each after a short delay, reports progress, and completes the work, each step after a
realistic (compressed) delay, so the demo shows whole case lifecycles. Now and then it declines a job,
or rejects one that is not its own, as real back offices do.

    python -m onestop.ops.demo.back_office [--areas waste,highways] [--speed 1.0]
"""

import argparse
import asyncio
import logging
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, UndecodableMessage, decode_record, encode_envelope, topics
from onestop.contracts.events.back_office import HandOffAccepted, ProgressReported, WorkCompleted
from onestop.contracts.events.cases import CaseHandedOff
from onestop.contracts.events.common import HandOffModel
from onestop.servicekit.kafka_security import kafka_options

log = logging.getLogger("onestop.demo.back_office")
SOURCE = "/council/line-of-business/demo"
DEFAULT_AREAS = ("waste", "street_cleaning", "highways", "housing")

PROGRESS_NOTES = {
    "waste": "A crew has been scheduled for your street.",
    "street_cleaning": "An officer has inspected the site and a clearance crew is booked.",
    "highways": "An engineer has inspected the fault and ordered the repair.",
    "housing": "A repairs operative has been booked to attend.",
}
OUTCOMES = {
    "waste": "The collection was made and the new container delivered.",
    "street_cleaning": "The site has been cleared.",
    "highways": "The repair has been completed.",
    "housing": "The repair has been completed.",
}


@dataclass(frozen=True)
class Pace:
    """Seconds of demo time per step; `speed` > 1 makes the demo faster."""

    speed: float = 1.0

    def wait(self, low: float, high: float) -> float:
        return random.uniform(low, high) / self.speed


class DemoBackOffice:
    def __init__(self, bootstrap: str, namespace: str = "", areas: tuple[str, ...] = DEFAULT_AREAS, speed: float = 1.0):
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.areas = set(areas)
        self.service_areas = tuple(sorted(self.areas))  # on every report: cases refuses one outside them
        self.pace = Pace(speed)
        self.system = "demo-line-of-business"
        self._producer: AIOKafkaProducer | None = None
        self._jobs: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            topics.CASES.qualified(self.namespace),
            bootstrap_servers=self.bootstrap,
            group_id=f"{self.namespace}demo.back-office",
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            **kafka_options(),
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, **kafka_options()
        )
        await consumer.start()
        await self._producer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        self._take(record)
        finally:
            for job in self._jobs:
                job.cancel()
            await consumer.stop()
            await self._producer.stop()

    def _take(self, record: object) -> None:
        try:
            envelope = decode_record(record.value, record.headers)  # type: ignore[attr-defined]
        except UndecodableMessage:
            return  # not ours to judge; the services dead-letter what they cannot read
        handed_off = envelope.data
        if not isinstance(handed_off, CaseHandedOff) or handed_off.service_area not in self.areas:
            return
        if handed_off.hand_off_model is HandOffModel.ONE_AND_DONE:
            return
        job = asyncio.create_task(self._work(envelope, handed_off))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _work(self, cause: EventEnvelope, case: CaseHandedOff) -> None:
        work_item = f"WI-{uuid4().hex[:8].upper()}"
        now = datetime.now(UTC)
        await asyncio.sleep(self.pace.wait(1, 4))
        await self._send(
            HandOffAccepted(
                case_id=case.case_id,
                system=self.system,
                service_areas=self.service_areas,
                work_item_id=work_item,
                accepted_at=datetime.now(UTC),
                expected_by=min(case.sla_due_at, now + timedelta(days=5)),
            ),
            cause,
        )
        await asyncio.sleep(self.pace.wait(3, 10))
        await self._send(
            ProgressReported(
                case_id=case.case_id,
                system=self.system,
                service_areas=self.service_areas,
                work_item_id=work_item,
                reported_at=datetime.now(UTC),
                note=PROGRESS_NOTES.get(case.service_area, "Work is under way."),
                public=True,  # written for the customer
            ),
            cause,
        )
        await asyncio.sleep(self.pace.wait(5, 20))
        declined = random.random() < 0.05
        await self._send(
            WorkCompleted(
                case_id=case.case_id,
                system=self.system,
                service_areas=self.service_areas,
                work_item_id=work_item,
                completed_at=datetime.now(UTC),
                outcome=(
                    "This land is privately owned, so the council cannot act; the owner has been told."
                    if declined
                    else OUTCOMES.get(case.service_area, "The work is complete.")
                ),
                declined=declined,
            ),
            cause,
        )

    async def _send(self, event: HandOffAccepted | ProgressReported | WorkCompleted, cause: EventEnvelope) -> None:
        assert self._producer is not None
        envelope = EventEnvelope.wrap(event, source=SOURCE, caused_by=cause)
        record = encode_envelope(envelope)
        await self._producer.send_and_wait(
            topics.BACK_OFFICE.qualified(self.namespace),
            value=record.value,
            key=record.key,
            headers=list(record.headers),
        )
        log.info("%s %s", event.type, event.case_id)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m onestop.ops.demo.back_office")
    parser.add_argument("--areas", default=",".join(DEFAULT_AREAS))
    parser.add_argument("--speed", type=float, default=1.0, help="greater than 1 makes the demo faster")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    office = DemoBackOffice(
        os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        os.environ.get("TOPIC_NAMESPACE", ""),
        tuple(args.areas.split(",")),
        args.speed,
    )
    asyncio.run(office.run(asyncio.Event()))


if __name__ == "__main__":
    main()
