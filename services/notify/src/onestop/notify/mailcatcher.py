"""A local mail catcher for the demo and tests: an SMTP server that keeps what it receives and shows it.

python -m onestop.notify.mailcatcher   # SMTP on 127.0.0.1:1025, a web page of received mail on :1080
"""

import argparse
import asyncio
import html
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """Keeps every message received (the newest `capacity` of them)."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        del self.messages[: -self.capacity]
        return "250 Message accepted for delivery"


def start_smtp(inbox: Inbox, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    controller = Controller(inbox, hostname=host, port=port)
    controller.start()
    return controller


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


def page(inbox: Inbox) -> str:
    rows = "".join(
        f"<article><h2>{html.escape(str(m['Subject']))}</h2><p>To {html.escape(str(m['To']))}</p>"
        f"<pre>{html.escape(text_of(m))}</pre></article>"
        for m in reversed(inbox.messages)
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sent mail</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}article{border-bottom:1px solid #ccc}"
        f"</style></head><body><h1>Mail sent by onestop ({len(inbox.messages)})</h1>{rows}</body></html>"
    )


async def serve_page(inbox: Inbox, host: str, port: int) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = page(inbox).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, host, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m onestop.notify.mailcatcher")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=1080)
    args = parser.parse_args()
    inbox = Inbox()
    controller = start_smtp(inbox, port=args.smtp_port)
    try:
        asyncio.run(serve_page(inbox, "127.0.0.1", args.http_port))
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
