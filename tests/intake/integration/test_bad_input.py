"""Bad input to intake is the caller's 4xx with the reason, never a server error: bodies too large are
refused before they are read, and naive or far-off times, control characters and over-long fields are
refused before anything is kept or published."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from email.message import EmailMessage
from xml.etree import ElementTree

import httpx
import pytest
import uvicorn

from onestop.intake.mailroom import MAX_MESSAGE_BYTES
from onestop.servicekit.inputs import MAX_BODY_BYTES
from tests.intake.conftest import RunningIntake
from tests.support import bearer

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
FEEDS = bearer("feeds:write")


def a_contact(**changes: object) -> dict[str, object]:
    need = {"kind": "report_problem", "service_code": "584", "description": "Graffiti on the bus shelter"}
    return {"channel": "web", "needs": [need], **changes}


@pytest.fixture
async def served(intake: RunningIntake) -> AsyncIterator[str]:
    """The intake app behind a real HTTP server, as clients reach it: Content-Length and chunked bodies."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(intake.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await serving


async def answer_to_headers_alone(address: str, request_head: str) -> bytes:
    """The status line the server answers with having had only the request's head, none of its body."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request_head.encode())
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()


async def test_a_body_too_large_is_refused_by_its_length_before_it_is_read(served: str) -> None:
    huge = 1024**3
    contacts = await answer_to_headers_alone(
        served,
        f"POST /contacts HTTP/1.1\r\nHost: intake\r\nAuthorization: {DESKTOP['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n",
    )
    assert b" 413 " in contacts
    stranger = await answer_to_headers_alone(
        served,
        f"POST /mailroom/messages HTTP/1.1\r\nHost: intake\r\nContent-Type: message/rfc822\r\n"
        f"Content-Length: {huge}\r\n\r\n",
    )
    assert b" 413 " in stranger or b" 401 " in stranger, "no one unauthenticated gets a gigabyte read"
    open311 = await answer_to_headers_alone(
        served,
        "POST /open311/v2/requests.xml HTTP/1.1\r\nHost: intake\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {huge}\r\n\r\n",
    )
    assert b" 413 " in open311


async def test_a_chunked_body_is_counted_as_it_arrives(served: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"channel": "web", "needs": [{"kind": "report_problem", "description": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}]}'

    async with httpx.AsyncClient(base_url=f"http://{served}") as client:
        answer = await client.post(
            "/contacts", content=chunks(), headers={**DESKTOP, "Content-Type": "application/json"}
        )
    assert answer.status_code == 413


async def test_the_mail_room_takes_a_message_larger_than_a_json_body(served: str) -> None:
    message = EmailMessage()
    message["From"] = "Pat Resident <pat@example.org>"
    message["Subject"] = "A long letter"
    message.set_content("The bins again.\n" * (2 * MAX_BODY_BYTES // 16))
    raw = message.as_bytes()
    assert MAX_BODY_BYTES < len(raw) < MAX_MESSAGE_BYTES
    async with httpx.AsyncClient(base_url=f"http://{served}", timeout=60) as client:
        answer = await client.post(
            "/mailroom/messages", content=raw, headers={**DESKTOP, "Content-Type": "message/rfc822"}
        )
    assert answer.status_code == 201, answer.text


async def test_feed_times_need_a_timezone_and_a_sane_year(intake: RunningIntake) -> None:
    call = {"event": "offered", "call_id": "7d1f3c4e-0000-4000-8000-000000000001", "queue": "council tax"}
    for at, reason in (
        ("2026-03-02T10:00:00", "timezone"),
        ("9999-12-31T23:59:59-23:59", "before 2100"),
        ("0001-01-01T00:00:00+05:00", "from 2000"),
    ):
        answer = await intake.client.post("/feeds/telephony", json={**call, "at": at}, headers=FEEDS)
        assert answer.status_code == 422 and reason in answer.text, answer.text
    nul = await intake.client.post(
        "/feeds/telephony", json={**call, "at": "2026-03-02T10:00:00Z", "queue": "tax\x00"}, headers=FEEDS
    )
    assert nul.status_code == 422 and "control characters" in nul.text


async def test_contacts_with_control_characters_or_far_off_times_are_refused(intake: RunningIntake) -> None:
    for contact in (
        a_contact(needs=[{"kind": "report_problem", "description": "Graffiti\x00"}]),
        a_contact(customer={"name": "Pat\x1b[2J"}),
        a_contact(channel_details={"kiosk": "\x00"}),
        a_contact(taken_by={"kind": "agent", "id": "a1\x00"}),
        a_contact(received_at="2026-03-02T10:00:00"),
        a_contact(received_at="2999-03-02T10:00:00Z"),
    ):
        answer = await intake.client.post("/contacts", json=contact, headers=DESKTOP)
        assert answer.status_code == 422, (contact, answer.text)
    fine = a_contact(needs=[{"kind": "report_problem", "description": "Graffiti.\n\tAgain."}])
    assert (await intake.client.post("/contacts", json=fine, headers=DESKTOP)).status_code == 201


async def test_open311_refuses_over_long_or_control_fields_in_its_own_format(intake: RunningIntake) -> None:
    base = {
        "api_key": next(iter(intake.settings.open311_clients())),
        "service_code": "584",
        "lat": "52.2",
        "long": "-0.9",
    }
    for extra, reason in (
        ({"first_name": "P" * 101}, "first_name must be at most 100"),
        ({"address_string": "A" * 501}, "address_string must be at most 500"),
        ({"description": "x" * 10_001}, "description must be at most"),
        ({"device_id": "phone\x00"}, "device_id must not contain control characters"),
        ({"address_id": "9" * 13}, None),
    ):
        answer = await intake.client.post("/open311/v2/requests.xml", data={**base, **extra})
        if reason is None:
            assert answer.status_code == 201, answer.text  # an address_id that is no UPRN is kept as no UPRN
            continue
        assert answer.status_code == 400, answer.text
        [error] = ElementTree.fromstring(answer.content)
        assert reason in (error.findtext("description") or "")


async def test_open311_xml_stays_well_formed_whatever_was_sent(intake: RunningIntake) -> None:
    for path in ("/open311/v2/services/%01%7F.xml", "/open311/v2/services/x%E2%80%8B%EF%BF%BE.xml"):
        answer = await intake.client.get(path)
        assert 400 <= answer.status_code < 500
        ElementTree.fromstring(answer.content)  # parses: nothing XML cannot carry got in


async def test_the_mail_room_refuses_text_in_an_unknown_charset(intake: RunningIntake) -> None:
    message = EmailMessage()
    message["From"] = "pat@example.org"
    message.set_content("The bins.")
    raw = message.as_bytes().replace(b'charset="utf-8"', b'charset="x-no-such-charset"')
    answer = await intake.client.post(
        "/mailroom/messages", content=raw, headers={**DESKTOP, "Content-Type": "message/rfc822"}
    )
    assert answer.status_code == 422 and "charset" in answer.text
