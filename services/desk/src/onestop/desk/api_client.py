"""The desk's only way to the services: their published HTTP APIs, called as the signed-in person with a
short-lived token minted for them (the desk holds no data of its own)."""

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Open cases fetched for one work list at most: a team's list is read whole so it can be put in order.
WORKLIST_LIMIT = 2000
PAGE = 500  # the services' largest page


class ServiceRefused(Exception):
    """A service answered 4xx: the request was refused, and `reason` says why in the service's words."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


class ServiceUnavailable(Exception):
    """A service could not be reached, or failed (5xx): nothing the person did, try again later."""


def reason_of(answer: httpx.Response) -> str:
    """The reason a service gave: FastAPI's `detail`, a string or a list of field errors."""
    try:
        detail = answer.json().get("detail")
    except (ValueError, AttributeError):
        return answer.reason_phrase or f"refused ({answer.status_code})"
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for error in detail[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
            parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
        return "; ".join(parts)
    return answer.reason_phrase or f"refused ({answer.status_code})"


def new_traceparent() -> tuple[str, str]:
    """A W3C trace context that starts a journey here, and its trace id: a contact the desk logs continues it,
    so support staff can open that contact's trace from the desk."""
    trace_id = secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01", trace_id


@dataclass(frozen=True)
class ServiceAddresses:
    cases: str
    intake: str
    notify: str
    traces: str


class ServiceClient:
    """One person's calls to the services, for one request of theirs."""

    def __init__(self, addresses: ServiceAddresses, token: str, transport: httpx.AsyncBaseTransport | None = None):
        self.addresses = addresses
        self.headers = {"Authorization": f"Bearer {token}"}
        self.transport = transport

    async def _call(
        self, method: str, base: str, path: str, *, missing_ok: bool = False, **kwargs: Any
    ) -> dict[str, Any] | None:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        try:
            async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, transport=self.transport) as client:
                answer = await client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{base} did not answer: {type(exc).__name__}") from exc
        if missing_ok and answer.status_code in (404, 405):
            return None
        if answer.status_code >= 500:
            raise ServiceUnavailable(f"{base}{path} answered {answer.status_code}")
        if answer.status_code >= 400:
            raise ServiceRefused(answer.status_code, reason_of(answer))
        body: dict[str, Any] = answer.json()
        return body

    async def _get(self, base: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = await self._call("GET", base, path, **kwargs)
        assert body is not None
        return body

    # --- cases ------------------------------------------------------------------------------------------

    async def search(self, query: str, page: int, page_size: int) -> dict[str, Any]:
        """Cases matching `query` (reference, name, email, phone, postcode, address, description words)."""
        return await self._get(
            self.addresses.cases, "/search", params={"q": query, "page": page, "page_size": page_size}
        )

    async def customer(self, customer_id: UUID) -> dict[str, Any] | None:
        return await self._call("GET", self.addresses.cases, f"/customers/{customer_id}", missing_ok=True)

    async def case(self, case_id: UUID) -> dict[str, Any] | None:
        """The case in full: what, where, who, attachments, notes, hand-off, SLA and history in words."""
        return await self._call("GET", self.addresses.cases, f"/cases/{case_id}/full", missing_ok=True)

    async def cases(self, **filters: Any) -> dict[str, Any]:
        params = {key: value for key, value in filters.items() if value not in (None, "")}
        return await self._get(self.addresses.cases, "/cases", params=params)

    async def open_cases(self, *, team: str | None, service_area: str | None) -> tuple[list[dict[str, Any]], bool]:
        """Every open case of a team or area (up to WORKLIST_LIMIT), and whether there were more."""
        found: list[dict[str, Any]] = []
        total = 0
        for offset in range(0, WORKLIST_LIMIT, PAGE):
            page = await self.cases(open_only="true", team=team, service_area=service_area, limit=PAGE, offset=offset)
            found.extend(page["items"])
            total = page["total"]
            if len(found) >= total:
                break
        return found, total > len(found)

    async def command(self, case_id: UUID, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """A case worker's command (notes, assign, resolve, decline, reopen, complaint/escalate)."""
        answer = await self._call("POST", self.addresses.cases, f"/cases/{case_id}/{action}", json=body)
        assert answer is not None
        return answer

    async def track(self, reference: str) -> dict[str, Any] | None:
        return await self._call(
            "GET", self.addresses.cases, f"/track/{reference}", missing_ok=True, headers={"Accept": "application/json"}
        )

    # --- intake, notify, traces -------------------------------------------------------------------------

    async def submit_contact(self, contact: dict[str, Any], idempotency_key: str, traceparent: str) -> dict[str, Any]:
        answer = await self._call(
            "POST",
            self.addresses.intake,
            "/contacts",
            json=contact,
            headers={"Idempotency-Key": idempotency_key, "traceparent": traceparent},
        )
        assert answer is not None
        return answer

    async def notifications(self, customer_id: UUID) -> dict[str, Any] | None:
        """What notify sent the customer and their preferences; None where notify does not say."""
        return await self._call(
            "GET", self.addresses.notify, f"/customers/{customer_id}/notifications", missing_ok=True
        )

    async def trace(self, trace_id: str) -> list[dict[str, Any]] | None:
        """The spans of one journey, as the trace viewer holds them (no personal data in spans)."""
        try:
            async with httpx.AsyncClient(
                base_url=self.addresses.traces, timeout=TIMEOUT, transport=self.transport
            ) as client:
                answer = await client.get(f"/api/traces/{trace_id}")
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the trace viewer did not answer: {type(exc).__name__}") from exc
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise ServiceUnavailable(f"the trace viewer answered {answer.status_code}")
        body = answer.json()
        return list(body.get("spans", body) if isinstance(body, dict) else body)
