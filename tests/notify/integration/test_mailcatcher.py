"""The demo's mail catcher keeps what it receives over real SMTP and shows it on its page."""

import asyncio
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from onestop.notify.mailcatcher import Inbox, serve_page, start_smtp
from tests.notify.conftest import free_port
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_received_mail_is_kept_and_shown_with_personal_text_escaped() -> None:
    inbox = Inbox()
    smtp_port, http_port = free_port(), free_port()
    controller = start_smtp(inbox, port=smtp_port)
    page = asyncio.create_task(serve_page(inbox, "127.0.0.1", http_port))
    try:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "a@example.org", "b@example.org", "Your <request>"
        mail.set_content("We expect to finish by Thursday.")
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=smtp_port)
        assert [str(m["Subject"]) for m in inbox.messages] == ["Your <request>"]

        async def shown() -> str | None:
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"http://127.0.0.1:{http_port}/")).text
            except httpx.ConnectError:
                return None

        text = await eventually(shown, within=10)
        assert "Mail sent by onestop (1)" in text
        assert "Your &lt;request&gt;" in text and "We expect to finish by Thursday." in text
    finally:
        page.cancel()
        controller.stop()
