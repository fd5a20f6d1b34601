"""The ways a message leaves: email over SMTP, SMS and letters through a GOV.UK Notify-compatible API,
and signed webhooks for apps. Each says whether a failure is temporary (retry) or permanent (fall back).

A notification may be sent more than once (its sender died before recording the outcome), so every send
carries an id derived from the notification id by which a repeat can be recognised: the email's
Message-ID, Notify's `reference`, the webhook's `Idempotency-Key` header."""

import hashlib
import hmac
import json
import time
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from typing import Protocol
from uuid import UUID

import aiosmtplib
import httpx
import jwt

from onestop.contracts.events.common import ContactMethod
from onestop.notify.domain.templates import Rendered


class TemporaryFailure(Exception):
    """Worth trying again later (server busy, network down)."""


class PermanentFailure(Exception):
    """Will never work at this address (bounced, invalid number): fall back to another method."""


class Channel(Protocol):
    async def send(self, notification_id: UUID, address: str, message: Rendered) -> str:
        """Send; return the provider's reference."""
        ...


def message_id(notification_id: UUID) -> str:
    """The email's Message-ID: the same on every attempt at one notification."""
    return f"<{notification_id}@onestop.notify>"


_UTF8_QUOTED_PRINTABLE = Charset("utf-8")
_UTF8_QUOTED_PRINTABLE.body_encoding = QP  # readable where the text is plain English, as most is


def _header(name: str, value: str) -> str:
    """ASCII as it is; anything else (Welsh, a name with accents) encoded as RFC 2047 asks."""
    return value if value.isascii() else Header(value, "utf-8", header_name=name).encode()


class SmtpEmail:
    """Email over SMTP. Connections are kept open and reused, since a handshake per message costs more than
    the message; one that fails is dropped, never reused."""

    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, notification_id: UUID, address: str, message: Rendered) -> str:
        # Built the plain way (headers kept as given, not parsed into objects): a notification's few headers
        # are known, and parsing them was a sixth of what notify spent on each message.
        email = Message()
        email["MIME-Version"] = "1.0"
        email.set_payload(message.body, _UTF8_QUOTED_PRINTABLE)  # text/plain; charset="utf-8"
        email["From"] = _header("From", self.sender)
        email["To"] = _header("To", address)
        email["Subject"] = _header("Subject", message.subject)
        email["Message-ID"] = message_id(notification_id)
        email["X-Onestop-Template"] = _header("X-Onestop-Template", f"{message.template}@{message.version}")
        try:
            await self._deliver(email)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"the address was refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"SMTP {exc.code}: {exc.message}") from exc
            raise TemporaryFailure(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP server unreachable: {exc}") from exc
        return str(email["Message-ID"])

    async def _deliver(self, email: Message) -> None:
        reused = self._idle.pop() if self._idle else None
        if reused is not None:
            try:
                await reused.send_message(email)
                self._idle.append(reused)
                return
            except aiosmtplib.SMTPServerDisconnected:
                reused.close()  # the server closed it while it sat idle: a fresh connection, once
            except BaseException:
                reused.close()
                raise
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, timeout=15)
        try:
            await client.connect()
            await client.send_message(email)
        except BaseException:
            client.close()
            raise
        self._idle.append(client)


class GovUkNotify:
    """SMS and letters through GOV.UK Notify's v2 API (or anything that speaks it)."""

    def __init__(self, base_url: str, api_key: str, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # Notify's keys end with the service id and a secret, each 36 characters.
        self.service_id, self.secret = api_key[-73:-37], api_key[-36:]
        self.client = client or httpx.AsyncClient(timeout=15)

    def _token(self) -> str:
        return jwt.encode({"iss": self.service_id, "iat": int(time.time())}, self.secret, algorithm="HS256")

    async def send_sms(self, notification_id: UUID, phone: str, message: Rendered) -> str:
        return await self._post(
            "sms",
            {
                "phone_number": phone,
                "template_id": message.template,
                "personalisation": {"subject": message.subject, "body": message.body},
                "reference": str(notification_id),
            },
        )

    async def send_letter(self, notification_id: UUID, postal_address: str, message: Rendered) -> str:
        lines = [line.strip() for line in postal_address.replace("\n", ",").split(",") if line.strip()]
        personalisation = {f"address_line_{n}": line for n, line in enumerate(lines[:7], start=1)}
        personalisation |= {"subject": message.subject, "body": message.body}
        return await self._post(
            "letter",
            {"template_id": message.template, "personalisation": personalisation, "reference": str(notification_id)},
        )

    async def _post(self, kind: str, payload: dict[str, object]) -> str:
        try:
            response = await self.client.post(
                f"{self.base_url}/v2/notifications/{kind}",
                json=payload,
                headers={"Authorization": f"Bearer {self._token()}"},
            )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"Notify unreachable: {exc}") from exc
        if response.status_code in (200, 201):
            return str(response.json().get("id", ""))
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryFailure(f"Notify answered {response.status_code}")
        raise PermanentFailure(f"Notify refused the {kind} ({response.status_code}): {response.text[:300]}")


class SignedWebhook:
    """For apps: the message is POSTed as JSON with an HMAC-SHA256 signature of the body."""

    def __init__(self, secret: str, client: httpx.AsyncClient | None = None) -> None:
        self.secret = secret.encode()
        self.client = client or httpx.AsyncClient(timeout=15)

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    async def send(self, notification_id: UUID, address: str, message: Rendered) -> str:
        body = json.dumps(
            {
                "id": str(notification_id),
                "subject": message.subject,
                "body": message.body,
                "template": message.template,
                "version": message.version,
            }
        ).encode()
        try:
            response = await self.client.post(
                address,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Onestop-Signature": self.signature(body),
                    "Idempotency-Key": str(notification_id),
                },
            )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"webhook unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TemporaryFailure(f"webhook answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentFailure(f"webhook refused ({response.status_code})")
        return str(notification_id)


class Channels:
    """Picks the way out for a method."""

    def __init__(self, email: SmtpEmail, notify: GovUkNotify | None, webhook: SignedWebhook) -> None:
        self.email, self.notify, self.webhook = email, notify, webhook

    async def send(self, method: ContactMethod, notification_id: UUID, address: str, message: Rendered) -> str:
        if method is ContactMethod.EMAIL:
            return await self.email.send(notification_id, address, message)
        if method is ContactMethod.APP:
            return await self.webhook.send(notification_id, address, message)
        if self.notify is None:
            raise PermanentFailure(f"no provider is configured for {method.value}")
        if method is ContactMethod.SMS:
            return await self.notify.send_sms(notification_id, address, message)
        if method is ContactMethod.LETTER:
            return await self.notify.send_letter(notification_id, address, message)
        raise PermanentFailure(f"cannot send by {method.value}")
