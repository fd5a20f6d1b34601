"""Log a contact on a customer's behalf: one contact with several needs, some resolved there and then (One &
Done), the rest handed off, through intake's contact API."""

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from onestop.contracts.events.common import AssuranceLevel, Channel, NeedKind, Priority
from onestop.contracts.service_catalogue import service_catalogue
from onestop.desk.api_client import ServiceRefused, new_traceparent
from onestop.desk.web.access import Use
from onestop.desk.web.csrf import checked_form
from onestop.desk.web.customers import REFERENCE
from onestop.desk.web.visit import Visitor

router = APIRouter()
Form = Annotated[FormData, Depends(checked_form)]

FIRST_ROWS, MAX_ROWS = 5, 20
# Channels a member of staff takes a contact on; self-service channels come in by themselves.
STAFFED_CHANNELS = (
    Channel.TELEPHONE,
    Channel.FACE_TO_FACE,
    Channel.EMAIL,
    Channel.POST,
    Channel.LIVE_CHAT,
    Channel.SOCIAL_MEDIA,
    Channel.COUNCILLOR,
)
CHANNEL_NAMES = {
    Channel.TELEPHONE: "Telephone",
    Channel.FACE_TO_FACE: "Face to face (one-stop shop)",
    Channel.EMAIL: "Email",
    Channel.POST: "Post",
    Channel.LIVE_CHAT: "Live chat",
    Channel.SOCIAL_MEDIA: "Social media",
    Channel.COUNCILLOR: "Councillor enquiry",
}
ASSURANCE = (
    (AssuranceLevel.NONE, "Not checked", "Enough for information and reports"),
    (AssuranceLevel.LOW, "Low", "They gave details we hold, such as their address"),
    (AssuranceLevel.MEDIUM, "Medium", "They answered security questions on their account"),
    (AssuranceLevel.HIGH, "High", "We saw photo identity"),
)
KIND_NAMES = {
    NeedKind.INFORMATION: "Information",
    NeedKind.PAYMENT: "Payment",
    NeedKind.SERVICE_REQUEST: "Service request",
    NeedKind.REPORT_PROBLEM: "Report a problem",
    NeedKind.COMPLAINT: "Complaint",
    NeedKind.APPLICATION: "Application",
}
CUSTOMER_FIELDS = ("name", "email", "phone", "address")
PRIORITIES = {
    Priority.NORMAL: "Normal",
    Priority.URGENT: "Urgent",
    Priority.EMERGENCY: "Emergency: danger to people now",
}


def service_options() -> list[tuple[str, Any]]:
    """The catalogue as option groups, one per service area."""
    catalogue = service_catalogue()
    return [("", "Choose a service")] + [
        (area.name, [(service.code, service.name) for service in area.services]) for area in catalogue.areas
    ]


@dataclass
class Draft:
    """The form as the person filled it in, kept when it is shown again."""

    values: dict[str, str] = field(default_factory=dict)
    rows: int = FIRST_ROWS
    idempotency_key: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def draft_of(form: FormData) -> Draft:
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        rows = min(MAX_ROWS, max(1, int(values.get("rows", FIRST_ROWS))))
    except ValueError:
        rows = FIRST_ROWS
    key = values.get("idempotency_key", "")
    return Draft(values, rows, key if _is_uuid(key) else str(uuid.uuid4()))


def coordinates_of(text: str) -> tuple[float, float] | None:
    """'52.2405, -0.9027' as a latitude and a longitude, or None."""
    parts = text.replace(" ", ",").split(",")
    numbers = [part for part in parts if part]
    if len(numbers) != 2:
        return None
    try:
        latitude, longitude = float(numbers[0]), float(numbers[1])
    except ValueError:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def contact_of(draft: Draft, staff: Any) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The contact intake takes, or what to correct first (each error names its field)."""
    catalogue = service_catalogue()
    errors: list[dict[str, str]] = []
    channel = draft.get("channel")
    if channel not in {c.value for c in STAFFED_CHANNELS}:
        errors.append({"field": "channel", "text": "Select how the customer contacted us", "href": "#channel"})
    needs = []
    for row in range(1, draft.rows + 1):
        prefix = f"need-{row}-"
        code = draft.get(prefix + "service")
        description = draft.get(prefix + "description").strip()
        resolved = draft.get(prefix + "resolved") == "yes"
        resolution = draft.get(prefix + "resolution").strip()
        about = draft.get(prefix + "about").strip().upper()
        if not code:
            if description or resolved or resolution or about or draft.get(prefix + "where").strip():
                errors.append(
                    {
                        "field": prefix + "service",
                        "text": f"Select the service for need {row}",
                        "href": f"#{prefix}service",
                    }
                )
            continue
        service = catalogue.service(code)
        if service is None:
            errors.append(
                {
                    "field": prefix + "service",
                    "text": f"Need {row}: choose a service from the list",
                    "href": f"#{prefix}service",
                }
            )
            continue
        kind = draft.get(prefix + "kind") or service.kinds[0].value
        if kind not in {k.value for k in NeedKind}:
            errors.append(
                {
                    "field": prefix + "kind",
                    "text": f"Need {row}: choose what kind of need it is",
                    "href": f"#{prefix}kind",
                }
            )
            continue
        if resolved and not resolution:
            errors.append(
                {
                    "field": prefix + "resolution",
                    "text": f"Need {row}: say how it was resolved",
                    "href": f"#{prefix}resolution",
                }
            )
            continue
        if about and not REFERENCE.match(about):
            errors.append(
                {
                    "field": prefix + "about",
                    "text": f"Need {row}: enter a reference like OS-7K2M-9QXD",
                    "href": f"#{prefix}about",
                }
            )
            continue
        need: dict[str, Any] = {"kind": kind, "service_code": code, "description": description}
        place, position = draft.get(prefix + "where").strip(), draft.get(prefix + "position").strip()
        location: dict[str, Any] = {"address": place} if place else {}
        if position:
            coordinates = coordinates_of(position)
            if coordinates is None:
                errors.append(
                    {
                        "field": prefix + "position",
                        "text": f"Need {row}: enter the map position as latitude, longitude, like 52.2405, -0.9027",
                        "href": f"#{prefix}position",
                    }
                )
                continue
            location |= {"latitude": coordinates[0], "longitude": coordinates[1]}
        if location:
            need["location"] = location
        priority = draft.get(prefix + "priority")
        if priority in PRIORITIES and priority != Priority.NORMAL:
            need["priority"] = priority
        if about:
            need["about_reference"] = about  # chasing a request already made: counted, not raised again
        if resolved:
            need |= {"resolved_at_first_contact": True, "resolution": resolution}
        needs.append(need)
    if not needs and not any(e["field"].startswith("need-") for e in errors):
        errors.append({"field": "need-1-service", "text": "Enter at least one need", "href": "#need-1-service"})
    if errors:
        return None, errors
    customer = {name: draft.get(f"customer-{name}").strip() for name in CUSTOMER_FIELDS}
    customer = {name: value for name, value in customer.items() if value}
    contact: dict[str, Any] = {
        "channel": channel,
        "needs": needs,
        "taken_by": {"kind": "agent", "id": staff.username},
    }
    if customer:
        contact["customer"] = customer | {"assurance": draft.get("assurance") or AssuranceLevel.NONE.value}
    return contact, []


def errors_for_refusal(reason: str) -> list[dict[str, str]]:
    return [{"field": "", "text": reason, "href": ""}]


def form_page(
    visit: Visitor, draft: Draft, status_code: int = 200, errors: list[dict[str, str]] | None = None
) -> HTMLResponse:
    return visit.page(
        "contact_new.html",
        status_code,
        title="Log a contact",
        draft=draft,
        channels=[("", "Choose a channel")] + [(c.value, CHANNEL_NAMES[c]) for c in STAFFED_CHANNELS],
        assurance=ASSURANCE,
        services=service_options(),
        kinds=[("", "As the service expects")] + [(k.value, name) for k, name in KIND_NAMES.items()],
        priorities=[(p.value, name) for p, name in PRIORITIES.items()],
        errors=errors or [],
    )


@router.get("/contacts/new", response_class=HTMLResponse)
async def new_contact(visit: Visitor, channel: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    visit.check(Use.LOG_CONTACT)
    return form_page(visit, Draft({"channel": channel}))


@router.post("/contacts", response_class=HTMLResponse)
async def log_contact(visit: Visitor, form: Form) -> Response:
    visit.check(Use.LOG_CONTACT)
    draft = draft_of(form)
    if draft.get("action") == "more":
        draft.rows = min(MAX_ROWS, draft.rows + 1)
        return form_page(visit, draft)
    contact, errors = contact_of(draft, visit.staff)
    if contact is None:
        return form_page(visit, draft, 400, errors)
    traceparent, trace_id = new_traceparent()
    try:
        # The form's own key: sent twice (a double click, a refresh), the contact is still taken once.
        receipt = await visit.services.submit_contact(contact, draft.idempotency_key, traceparent)
    except ServiceRefused as exc:
        return form_page(visit, draft, exc.status_code, errors_for_refusal(exc.reason))
    resolved = [need.get("resolved_at_first_contact", False) for need in contact["needs"]]
    needs = [
        answer | {"resolved": resolved[n] if n < len(resolved) else False}
        for n, answer in enumerate(receipt.get("needs", []))
    ]
    return visit.page(
        "contact_logged.html",
        title="Contact logged",
        receipt=receipt,
        needs=needs,
        trace_id=trace_id,
        channel=CHANNEL_NAMES.get(Channel(contact["channel"]), contact["channel"]),
    )


@router.get("/cases/by-reference/{reference}", response_class=HTMLResponse)
async def case_by_reference(reference: str, visit: Visitor) -> Response:
    """The case a reference leads to: raised a moment after the contact is taken, so it may not be there yet."""
    visit.check(Use.SEE_CASE)
    found = await visit.services.cases(reference=reference[:20], limit=1)
    if found.get("items"):
        return RedirectResponse(f"/cases/{found['items'][0]['case_id']}", status_code=303)
    return visit.page(
        "problem.html",
        404,
        title=f"No case for {reference[:20]} yet",
        message="A case is raised moments after its contact is logged, unless it was resolved on the spot "
        "or joined a case already in hand. Refresh this page in a moment.",
    )
