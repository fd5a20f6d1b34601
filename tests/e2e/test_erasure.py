"""Personal data in an immutable log, checked where the bytes are.

Nothing personal reaches Kafka in the clear, from any channel: every topic's records, and the broker's own
segment files, are searched for what people told us. And after a person is erased (with the records merged
into theirs, and someone never identified, by contact), neither the broker's files nor any service's
database holds their name, email address, phone number, address, property, words or attachments in the
clear, while their cases and the statistics remain."""

import asyncio
import email.message
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]

from onestop.localinfra import kafka
from onestop.servicekit.settings import with_database
from tests.e2e.conftest import System
from tests.support import bearer, case_of, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read", "cases:write")
STREET_CLEANING = bearer("backoffice:write", "cases:read", service_areas=["street_cleaning"])
TRIAGE = bearer("routing:admin")
MAILROOM = {**DESKTOP, "Content-Type": "message/rfc822"}


@dataclass(frozen=True)
class Resident:
    """Someone with details no one else has: each is a needle to search for."""

    tag: str
    name: str
    email: str
    phone: str
    address: str
    uprn: str

    @classmethod
    def new(cls, first: str, last: str) -> "Resident":
        tag = secrets.token_hex(4)
        return cls(
            tag=tag,
            name=f"{first} {last}-{tag}",
            email=f"{first.lower()}.{tag}@example.org",
            phone="07700 900" + str(int(tag, 16) % 1000).zfill(3),
            address=f"{int(tag, 16) % 90 + 10} Quartermain Row-{tag}",
            uprn="9" + str(int(tag, 16)).zfill(11)[-11:],
        )

    @property
    def needles(self) -> list[str]:
        return [self.name, self.email, self.phone, self.phone.replace(" ", ""), self.address, self.uprn]


def web_contact(customer: dict[str, Any], description: str, service_code: str, **location: Any) -> dict[str, Any]:
    """A problem reported on the web. Each of a test's reports is of another service at another place, so
    none is taken for a duplicate of another, or for the same customer chasing an open case."""
    return {
        "channel": "web",
        "customer": customer,
        "needs": [
            {
                "kind": "report_problem",
                "service_code": service_code,
                "description": description,
                "location": {"latitude": PLACES[service_code][0], "longitude": PLACES[service_code][1], **location},
            }
        ],
    }


PLACES = {"584": (52.23, -0.89), "557": (52.25, -0.95), "577": (52.20, -0.85), "587": (52.28, -0.80)}


def a_letter(resident: Resident, body: str, signature: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    """A scanned letter, as the mail room hands it in; with no service named, routing reads the text."""
    message = email.message.EmailMessage()
    message["From"] = f"{resident.name} <{resident.email}>"
    message["To"] = "customer.services@council.example"
    message["Subject"] = "A letter"
    message["Message-ID"] = f"<{secrets.token_hex(8)}@mailroom.council.example>"
    message["X-Onestop-Channel"] = "post"
    message.set_content(f"{body}\n\n{signature}")
    if attachment is not None:
        filename, content = attachment
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


def _kafka_log_files(namespace: str) -> list[Path]:
    """The segment files of this test's topics on the local broker, or [] when the broker is elsewhere."""
    return [
        segment
        for node in kafka.running_nodes()
        for partition in (node.directory / "data").glob(f"{namespace}*")
        for segment in partition.glob("*.log")
    ]


def _as_text(value: Any) -> str:
    """A column's value as a scan reads it: bytes as the bytes they are, not PostgreSQL's hex of them."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


async def _rows_holding(server_url: str, database: str, needles: list[str]) -> list[str]:
    """Every value of every row of every table in `database` that holds one of `needles`, by table and column."""
    connection = await asyncpg.connect(with_database(server_url, database))
    try:
        tables = await connection.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
        )
        found = []
        for table in tables:
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            for row in await connection.fetch(f"SELECT * FROM {name}"):
                for column, value in row.items():
                    text = _as_text(value)
                    if any(needle.lower() in text.lower() for needle in needles):
                        found.append(f"{name}.{column}: {text[:200]}")
        return found
    finally:
        await connection.close()


async def _held_anywhere(system: System, server_url: str, needles: list[str]) -> list[str]:
    return [
        f"{service} {row}"
        for service, database in system.databases.items()
        for row in await _rows_holding(server_url, database, needles)
    ]


async def _raw_records(bootstrap: str, namespace: str) -> list[Any]:
    """Every record of every topic of the namespace, committed or not, as the bytes on the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(namespace)]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        *names,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_uncommitted",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(60):
            while not consumer.assignment():
                for batch in (await consumer.getmany(timeout_ms=100)).values():
                    records.extend(batch)
            ends = await consumer.end_offsets(list(consumer.assignment()))
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
        return records
    finally:
        await consumer.stop()


def _bytes_of(record: Any) -> bytes:
    headers = b"".join(key.encode() + value for key, value in record.headers)
    return (record.key or b"") + (record.value or b"") + headers


async def _erase(system: System, *arguments: str) -> str:
    erasing = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from onestop.ops.cli import app; app()",
        "erase-customer",
        *arguments,
        env=system.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await erasing.communicate()
    assert erasing.returncode == 0, err.decode()
    return out.decode()


async def test_erased_people_are_nowhere_in_the_clear(system: System, postgres_url: str) -> None:
    ada, stranger = Resident.new("Philippa", "Quartermain"), Resident.new("Ignatius", "Unknown")
    tag = ada.tag
    letter_body = f"Dear Sir, there is graffiti sprayed on the wall behind my house-{tag}"
    signature = f"Yours faithfully, {ada.name}"
    vague_letter = f"Please ring me about what we discussed-{tag}"  # no service in it: a person must choose
    phone_only_text = f"A pothole outside my gate-{tag}"
    web_text = f"Dog mess on the path by my door-{tag}"
    staff_note = f"Spoke to {ada.name}, who is housebound-{tag}"
    progress_note = f"Crew will knock at {ada.address} first-{tag}"
    stranger_text = f"Writing on the underpass, signed {stranger.name}"
    attachment_name, attachment_content = f"photo-of-{tag}.pdf", f"%PDF-1.4 scanned page-{tag}".encode()
    needles = [
        *ada.needles,
        *stranger.needles[:1],
        letter_body,
        signature,
        vague_letter,
        phone_only_text,
        web_text,
        staff_note,
        progress_note,
        stranger_text,
        attachment_name,
        attachment_content.decode(),
    ]

    async with (
        httpx.AsyncClient(base_url=system.url("intake"), headers=DESKTOP, timeout=60) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), timeout=60) as cases,
    ):
        # Ada writes (record A), then calls giving only her phone (record B), then reports on the web,
        # signed in, with both: the two records are one person, and B is merged into A.
        written = await intake.post(
            "/mailroom/messages",
            content=a_letter(ada, letter_body, signature, (attachment_name, attachment_content)),
            headers=MAILROOM,
        )
        assert written.status_code == 201, written.text
        vague = await intake.post("/mailroom/messages", content=a_letter(ada, vague_letter, ""), headers=MAILROOM)
        assert vague.status_code == 201, vague.text
        by_phone = await intake.post("/contacts", json=web_contact({"phone": ada.phone}, phone_only_text, "557"))
        assert by_phone.status_code == 201, by_phone.text
        customer = {"name": ada.name, "email": ada.email, "phone": ada.phone, "address": ada.address}
        web = await intake.post(
            "/contacts",
            json=web_contact(
                {**customer, "uprn": ada.uprn, "vulnerable": True, "assurance": "low"},
                web_text,
                "577",
                address=ada.address,
                uprn=ada.uprn,
            ),
        )
        assert web.status_code == 201, web.text
        ada_id, merged_id = written.json()["customer_id"], by_phone.json()["customer_id"]
        assert web.json()["customer_id"] == ada_id != merged_id
        # Someone who gives only their name is never identified: their contact has a subject of its own.
        unknown = await intake.post("/contacts", json=web_contact({"name": stranger.name}, stranger_text, "587"))
        assert unknown.status_code == 201 and unknown.json()["customer_id"] is None, unknown.text
        for answer in (written, by_phone, web, unknown):
            await case_of(cases, answer.json()["needs"][0]["reference"], STAFF)
        case_id = (await case_of(cases, web.json()["needs"][0]["reference"], STAFF))["case_id"]
        noted = await cases.post(f"/cases/{case_id}/notes", json={"text": staff_note}, headers=STAFF)
        assert noted.status_code == 200, noted.text
        progress = {"work_item_id": f"SC-{tag}", "note": progress_note, "public": True}
        reported = await cases.post(f"/back-office/cases/{case_id}/progress", json=progress, headers=STREET_CLEANING)
        assert reported.status_code == 200, reported.text

        async def in_triage() -> bool:
            async with httpx.AsyncClient(base_url=system.url("routing")) as routing:
                queue = (await routing.get("/triage", headers=TRIAGE)).json()
            return any(row["contact_id"] == vague.json()["contact_id"] for row in queue)

        await eventually(in_triage, within=120)
        await eventually(lambda: _acknowledged(system, ada.email), within=120)

        async def details_kept() -> list[str]:
            held = await _held_anywhere(system, postgres_url, needles)
            wanted = (ada.email, stranger.name, progress_note, attachment_content.decode())
            return held if all(any(w.lower() in row.lower() for row in held) for w in wanted) else []

        held = await eventually(details_kept, within=60)
        assert any('"attachments".content' in row for row in held), "the scan reads bytea as the bytes they are"

        shredded = await _erase(system, ada_id, "--basis", f"UK GDPR Art. 17 request {tag}")
        assert f"key of {ada_id} shredded" in shredded and f"key of {merged_id} shredded" in shredded, shredded
        await _erase(system, "--contact", unknown.json()["contact_id"], "--basis", f"UK GDPR Art. 17 request {tag}-2")

        async def nothing_left() -> bool:
            return not await _held_anywhere(system, postgres_url, needles)

        try:
            await eventually(nothing_left, within=90)
        except TimeoutError:
            leftovers = await _held_anywhere(system, postgres_url, needles)
            raise AssertionError("personal data left in the clear after erasure:\n" + "\n".join(leftovers)) from None

        # Their cases, and the statistics they feed, remain; the need in triage still waits for a person.
        case = await cases.get(f"/cases/{case_id}", headers=STAFF)
        assert case.status_code == 200 and case.json()["case"]["case_id"] == case_id
        assert await in_triage()
        routing_db = await asyncpg.connect(with_database(postgres_url, system.databases["routing"]))
        try:
            kept = await routing_db.fetchval(
                "SELECT event FROM triage_queue WHERE contact_id = $1", vague.json()["contact_id"]
            )
        finally:
            await routing_db.close()
        assert b'"sealed":"v1.' not in kept, "not even a sealed copy of an erased person's letter stays in triage"

    # Nor was it ever written to logs, traces or metrics, before or after erasure.
    await asyncio.sleep(2)  # the last spans and metrics reach the viewer within a second
    logged = "\n".join(path.read_text(errors="replace") for path in system.logs.glob("*.log"))
    traced = " ".join(f"{s.name} {s.attributes}" for spans in system.spans.traces.values() for s in spans)
    measured = " ".join(f"{p.name} {p.attributes}" for p in system.metrics.points.values())
    assert "POST /contacts" in traced and "Application startup complete" in logged, "the scan reads this run's"
    for needle in needles:
        assert needle not in logged, f"{needle!r} is in a service's log"
        assert needle not in traced, f"{needle!r} is in a span"
        assert needle not in measured, f"{needle!r} is in a metric"

    segments = _kafka_log_files(system.namespace)
    if segments:  # a local broker: read its files byte for byte
        raw = b"".join(segment.read_bytes() for segment in segments)
        assert web.json()["contact_id"].encode() in raw, "the scan reads the segments that hold this test's events"
        for needle in needles:
            assert needle.encode() not in raw, f"{needle!r} is in the Kafka log in the clear"


async def test_nothing_personal_reaches_kafka_in_the_clear_from_any_channel(system: System) -> None:
    resident, writer, reporter = (
        Resident.new("Ada", "Byron"),
        Resident.new("Pat", "Letters"),
        Resident.new("Ali", "Khan"),
    )
    stranger = Resident.new("Nobody", "Known")
    tag = resident.tag
    texts = {
        "web": f"Fly-tipped sofa blocking my drive-{tag}",
        "letter": f"The street light outside my bedroom flickers all night-{tag}",
        "signature": f"Yours sincerely, {writer.name}",
        "open311": f"Mattress dumped by the garages of number 4-{tag}",
        "media": f"https://photos.example/{tag}/mattress.jpg",
        "note": f"{resident.name} asked us to call after six-{tag}",
        "stranger": f"Graffiti by the school gate, from {stranger.name}",
    }
    site_key = os.environ["INTAKE_OPEN311_API_KEYS"].split(",")[0].split(":")[0]
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), headers=DESKTOP, timeout=60) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), timeout=60) as cases,
    ):
        web = await intake.post(
            "/contacts",
            json=web_contact(
                {
                    "name": resident.name,
                    "email": resident.email,
                    "phone": resident.phone,
                    "address": resident.address,
                    "uprn": resident.uprn,
                    "vulnerable": True,
                },
                texts["web"],
                "587",
                address=resident.address,
                uprn=resident.uprn,
            ),
        )
        assert web.status_code == 201, web.text
        letter = await intake.post(
            "/mailroom/messages", content=a_letter(writer, texts["letter"], texts["signature"]), headers=MAILROOM
        )
        assert letter.status_code == 201, letter.text
        open311 = await intake.post(
            "/open311/v2/requests.json",
            data={
                "api_key": site_key,
                "service_code": "587",
                "lat": "52.3405",
                "long": "-0.7027",
                "address_string": reporter.address,
                "description": texts["open311"],
                "email": reporter.email,
                "phone": reporter.phone,
                "first_name": reporter.name.split()[0],
                "last_name": reporter.name.split()[1],
                "media_url": texts["media"],
                "device_id": f"device-{tag}",
            },
            headers={},
        )
        assert open311.status_code == 201, open311.text
        unknown = await intake.post("/contacts", json=web_contact({"name": stranger.name}, texts["stranger"], "584"))
        assert unknown.status_code == 201 and unknown.json()["customer_id"] is None, unknown.text

        case_id = (await case_of(cases, web.json()["needs"][0]["reference"], STAFF))["case_id"]
        noted = await cases.post(f"/cases/{case_id}/notes", json={"text": texts["note"]}, headers=STAFF)
        assert noted.status_code == 200, noted.text
        await eventually(lambda: _acknowledged(system, resident.email), within=120)
        await eventually(lambda: _acknowledged(system, reporter.email), within=120)

    needles = [
        *resident.needles,
        *writer.needles[:3],
        reporter.name.split()[1],
        *reporter.needles[1:5],
        stranger.name,
        *texts.values(),
        f"device-{tag}",
    ]

    async def everything_published() -> list[Any] | None:
        records = await _raw_records(system.env["KAFKA_BOOTSTRAP_SERVERS"], system.namespace)
        types = {dict(r.headers).get("ce_type", b"").decode() for r in records}
        wanted = {"onestop.case.note-added", "onestop.notification.requested", "onestop.case.handed-off"}
        return records if wanted <= types else None

    records = await eventually(everything_published, within=120)
    contacts = [r for r in records if dict(r.headers).get("ce_type") == b"onestop.contact.received"]
    assert len(contacts) == 4, "every channel's contact is among what was read"
    for record in records:
        raw = _bytes_of(record)
        for needle in needles:
            assert needle.encode() not in raw, f"{needle!r} is in the clear on {record.topic}"
        assert b'"vulnerable":true' not in raw, f"a vulnerability is in the clear on {record.topic}"

    segments = _kafka_log_files(system.namespace)
    if segments:  # and on the broker's disk, every topic, replica files and all
        raw = b"".join(segment.read_bytes() for segment in segments)
        assert web.json()["contact_id"].encode() in raw, "the scan reads the segments that hold this test's events"
        for needle in needles:
            assert needle.encode() not in raw, f"{needle!r} is in the Kafka log in the clear"


async def _acknowledged(system: System, email: str) -> bool:
    return await system.mail.count(email) > 0
