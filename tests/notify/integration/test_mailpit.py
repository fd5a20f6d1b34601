"""The mail server the demo and the tests use (Mailpit, run by onestop.localinfra.mailpit): it keeps what it
receives over real SMTP, counts it per recipient, gives back its text, and shows it on its web view."""

from collections.abc import Iterator
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from onestop.localinfra import mailpit
from tests.notify.conftest import not_starting_with
from tests.support import MailServer

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[mailpit.Mailpit]:
    running = mailpit.start(allowed_recipients=not_starting_with("bounce"))
    yield running
    mailpit.stop(running)


async def send(server: mailpit.Mailpit, to: str, subject: str, text: str = "We expect to finish by Thursday.") -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "council@onestop.example", to, subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@onestop.test>"
    message.set_content(text)
    await aiosmtplib.send(message, hostname="127.0.0.1", port=server.smtp_port)


async def test_mail_is_counted_per_recipient_and_read_back(server: mailpit.Mailpit) -> None:
    mail = MailServer(server.url)
    await send(server, "jo@example.org", "first")
    await send(server, "Jo@Example.org", "second", "A crew is booked for Tuesday.")
    await send(server, "tojo@example.org", "other")  # holds "jo@example.org", but is someone else

    to_jo = {m.subject: m for m in await mail.wait_for("jo@example.org", 2)}
    assert to_jo.keys() == {"first", "second"}
    assert to_jo["first"].message_id == "<first@onestop.test>" and to_jo["first"].to == ("jo@example.org",)
    assert "A crew is booked for Tuesday." in await mail.text(to_jo["second"])
    assert await mail.count("jo@example.org") == 2 and await mail.count("tojo@example.org") == 1
    assert sorted(m.subject for m in await mail.messages()) == ["first", "other", "second"]

    with pytest.raises(TimeoutError):  # the wait is bounded
        await mail.wait_for("jo@example.org", 3, within=1)
    await mail.delete_all()
    assert await mail.messages() == []


async def test_an_address_it_is_told_to_refuse_is_refused_as_a_dead_mailbox(server: mailpit.Mailpit) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await send(server, "bounce.jo@example.org", "never")
    assert refused.value.recipients[0].code == 550
    await send(server, "bob@example.org", "kept")  # "b" alone is not the refused prefix
    assert await MailServer(server.url).count("bob@example.org") == 1


async def test_the_web_view_is_served_whole() -> None:
    assert mailpit.installed_version(mailpit.binary()) == mailpit.MAILPIT_VERSION
    server = mailpit.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            page = await client.get("/")
            assert page.status_code == 200 and "/dist/app.js" in page.text
            # The Go module alone ships the page without its scripts; `make install` builds them in.
            script = await client.get("/dist/app.js")
            assert script.status_code == 200 and len(script.content) > 100_000
    finally:
        mailpit.stop(server)
    assert not server.directory.exists()  # its stored mail went with it
