"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), as FixMyStreet-style sites speak it.

Every resource comes as `.json` or `.xml`; errors are a list of `{code, description}` in either format.
Reads need no credentials; posting a request needs an `api_key` the council issued to the client.
"""

import mimetypes
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from onestop.contracts.events.common import AssuranceLevel, Attachment, Channel, CustomerDetails, Location
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.service_catalogue import ServiceArea, ServiceType, service_catalogue
from onestop.intake.adapters.views import IntakeViews, RequestQuery
from onestop.intake.domain.email_address import one_email_address
from onestop.intake.domain.service_request import ServiceRequest, listed_on_open311
from onestop.intake.group_commit import NotRecorded
from onestop.intake.open311_format import (
    REQUEST_BODY,
    Format,
    Open311Error,
    checked_fields,
    checked_format,
    definition_xml,
    error_response,
    render,
)
from onestop.intake.service import ContactRefused, IntakeService
from onestop.servicekit.inputs import within_bounds
from onestop.servicekit.ratelimit import rate_limit

router = APIRouter(
    prefix="/open311/v2", tags=["Open311 GeoReport v2"], dependencies=[Depends(rate_limit(per_minute=300))]
)

SERVICE_NOTICE = "Thank you. We aim to deal with this within {days} working days."
AREA_ATTRIBUTES: dict[str, list[dict[str, Any]]] = {
    "waste": [
        {
            "code": "container",
            "datatype": "singlevaluelist",
            "required": False,
            "description": "Which bin?",
            "values": [
                {"key": "refuse", "name": "General waste"},
                {"key": "recycling", "name": "Recycling"},
                {"key": "garden", "name": "Garden waste"},
            ],
        }
    ],
    "street_cleaning": [
        {
            "code": "size",
            "datatype": "singlevaluelist",
            "required": False,
            "description": "How much is there?",
            "values": [
                {"key": "small", "name": "A bag or two"},
                {"key": "medium", "name": "A car boot load"},
                {"key": "large", "name": "A van load or more"},
            ],
        }
    ],
    "highways": [
        {
            "code": "hazard",
            "datatype": "string",
            "required": False,
            "description": "Is anyone in danger right now? If so, please also phone us.",
        }
    ],
}


def _service_row(area: ServiceArea, service: ServiceType) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": f"{service.name} ({area.name}). Service standard: {service.standard_working_days} working days.",
        "metadata": area.id in AREA_ATTRIBUTES,
        "type": "batch",
        "keywords": ",".join(k.value for k in service.kinds),
        "group": area.name,
    }


async def intake(request: Request) -> IntakeService:
    return request.app.state.intake  # type: ignore[no-any-return]


Service = Annotated[IntakeService, Depends(intake)]


async def views(request: Request) -> IntakeViews:
    return request.app.state.views  # type: ignore[no-any-return]


Views = Annotated[IntakeViews, Depends(views)]


@router.get("/services.{format_}", summary="The service list")
async def services(format_: Format) -> Response:
    try:
        rows = [
            _service_row(area, service)
            for area, service in service_catalogue().services()
            if listed_on_open311(service.code)
        ]
        return render(checked_format(format_), "services", "service", rows)
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


@router.get("/services/{service_code}.{format_}", summary="A service definition with its attributes")
async def definition(service_code: str, format_: Format) -> Response:
    try:
        fmt = checked_format(format_)
        catalogue = service_catalogue()
        area = catalogue.area_of(service_code)
        if area is None or not listed_on_open311(service_code):
            raise Open311Error(404, f"no service with code {service_code}")
        attributes = [
            {
                "variable": True,
                "code": a["code"],
                "datatype": a["datatype"],
                "required": a["required"],
                "datatype_description": "",
                "order": order,
                "description": a["description"],
                "values": a.get("values", []),
            }
            for order, a in enumerate(AREA_ATTRIBUTES.get(area.id, []), start=1)
        ]
        row = {"service_code": service_code, "attributes": attributes}
        return definition_xml(row) if fmt == "xml" else JSONResponse(row)
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


@router.post("/requests.{format_}", summary="Create a service request (needs an api_key)", openapi_extra=REQUEST_BODY)
async def create_request(format_: Format, request: Request, service: Service) -> Response:
    try:
        fmt = checked_format(format_)
        form = await request.form()
        fields = checked_fields(form)
        client = service.settings.open311_clients().get(fields.get("api_key", ""))
        if client is None:
            raise Open311Error(403, "a valid api_key is required to post a service request")
        code = fields.get("service_code", "")
        catalogue = service_catalogue()
        service_type, area = catalogue.service(code), catalogue.area_of(code)
        if service_type is None or area is None:
            raise Open311Error(400, f"service_code {code!r} is not one of ours; see services.json")
        if not listed_on_open311(code):
            raise Open311Error(
                400,
                f"{service_type.name} needs a customer verified to level {service_type.identity.value}:"
                " it is not offered through Open311; see services.json",
            )
        lat, long = _coordinate(fields, "lat", 90), _coordinate(fields, "long", 180)
        address = fields.get("address_string") or None
        if (lat is None or long is None) and not address and not fields.get("address_id"):
            raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
        attributes = {
            k[len("attribute[") : -1]: v for k, v in fields.items() if k.startswith("attribute[") and k.endswith("]")
        }
        description = fields.get("description", "")
        if attributes:
            description += "\n" + "\n".join(f"{k}: {v}" for k, v in sorted(attributes.items()))
        name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p) or None
        email = _email(form.getlist("email"))
        customer = None
        if email or fields.get("phone") or name:
            customer = CustomerDetails(name=name, email=email, phone=fields.get("phone") or None)
        media = _media_url(fields.get("media_url"))
        need = Need(
            need_id=uuid4(),
            kind=service_type.kinds[0],
            service_code=code,
            description=description.strip()[:10_000],
            location=Location(
                latitude=lat,
                longitude=long,
                address=address,
                uprn=fields["address_id"] if re.fullmatch(r"[0-9]{1,12}", fields.get("address_id", "")) else None,
            ),
            attachments=(_attachment(media),) if media else (),
        )
        contact = ContactReceived(
            contact_id=uuid4(),
            channel=Channel.OPEN311,
            received_at=datetime.now(UTC),
            needs=(need,),
            customer=customer,
            channel_details={
                "open311_client": client,
                **({"device_id": fields["device_id"]} if fields.get("device_id") else {}),
            },
        )
        notice = SERVICE_NOTICE.format(days=service_type.standard_working_days)
        answer = await service.take(
            contact,
            AssuranceLevel.NONE,
            client=client,
            service_request=ServiceRequest(client, code, service_type.name, address, lat, long, media),
            idempotency_key=request.headers.get("Idempotency-Key"),
            request_fingerprint=fields,
        )
        token = answer.body.get("contact_id")  # a retry gets the first answer's token
        return render(
            fmt,
            "service_requests",
            "request",
            [{"token": token, "service_notice": notice, "account_id": fields.get("account_id")}],
            201,
        )
    except ContactRefused as exc:
        return error_response(format_, 400, exc.reason)
    except ValidationError as exc:  # a field the contact's own rules refuse, such as a name too long
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        return error_response(format_, 400, reasons)
    except NotRecorded:
        return error_response(format_, 503, "the request could not be recorded just now; please retry")
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


def _email(given: list[Any]) -> str | None:
    """The reporter's one email address, if they gave one; replies go to it, so nothing else passes."""
    if len(given) > 1:
        raise Open311Error(400, "email must be one address, not a list")
    if not given or not str(given[0]):
        return None
    try:
        return one_email_address(str(given[0]))
    except ValueError as exc:
        raise Open311Error(400, f"email {exc}") from exc


def _media_url(given: str | None) -> str | None:
    """The reporter's photo, held by the reporting site: an http(s) address, or nothing."""
    if not given:
        return None
    if urlsplit(given).scheme not in ("http", "https") or not urlsplit(given).netloc:
        raise Open311Error(400, "media_url must be an http or https address")
    return given


def _attachment(media_url: str) -> Attachment:
    """The photo travels with the case to the back office by reference. It is not fetched, so its size is
    unknown (0) and its type is what its address suggests."""
    media_type = mimetypes.guess_type(urlsplit(media_url).path)[0] or "application/octet-stream"
    return Attachment(url=media_url, media_type=media_type, size_bytes=0)


def _coordinate(fields: dict[str, str], name: str, limit: float) -> float | None:
    if not fields.get(name):
        return None
    try:
        value = float(fields[name])
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a number") from exc
    if not -limit <= value <= limit:
        raise Open311Error(400, f"{name} is out of range")
    return value


@router.get("/tokens/{token}.{format_}", summary="The service request id behind a token")
async def token(token: str, format_: Format, views: Views) -> Response:
    try:
        fmt = checked_format(format_)
        try:
            token_id = UUID(token)
        except ValueError as exc:
            raise Open311Error(404, f"no token {token}") from exc
        row = await views.token(token_id)
        if row is None:
            raise Open311Error(404, f"no token {token}")
        return render(
            fmt, "service_requests", "request", [{"service_request_id": row["service_request_id"], "token": token}]
        )
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


def _request_row(row: Any) -> dict[str, Any]:
    return {
        "service_request_id": row["service_request_id"],
        "status": row["status"],
        "status_notes": row["status_notes"],
        "service_name": row["service_name"],
        "service_code": row["service_code"],
        "description": row["description"],
        "agency_responsible": row["agency"],
        "service_notice": None,
        "requested_datetime": row["requested_at"],
        "updated_datetime": row["updated_at"],
        "expected_datetime": row["expected_at"],
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["long"],
        "media_url": row["media_url"],
    }


def _w3c(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a W3C date-time, e.g. 2026-03-02T10:00:00Z") from exc
    try:
        return within_bounds(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except ValueError as exc:
        raise Open311Error(400, f"{name} {exc}") from exc


@router.get("/requests.{format_}", summary="Service requests, with the standard filters")
async def list_requests(
    format_: Format,
    views: Views,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    try:
        fmt = checked_format(format_)
        if service_request_id:
            query = RequestQuery(ids=[s.strip() for s in service_request_id.split(",")])
        else:
            end = _w3c(end_date, "end_date") if end_date else datetime.now(UTC)
            start = _w3c(start_date, "start_date") if start_date else end - timedelta(days=90)
            wanted = [s.strip() for s in status.split(",")] if status else None
            if wanted and not set(wanted) <= {"open", "closed"}:
                raise Open311Error(400, "status must be open, closed or both")
            codes = [c.strip() for c in service_code.split(",")] if service_code else None
            query = RequestQuery(start=start, end=end, service_codes=codes, statuses=wanted)
        rows = await views.service_requests(query)
        return render(fmt, "service_requests", "request", [_request_row(r) for r in rows])
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


@router.get("/requests/{service_request_id}.{format_}", summary="One service request")
async def get_request(service_request_id: str, format_: Format, views: Views) -> Response:
    try:
        fmt = checked_format(format_)
        row = await views.service_request(service_request_id)
        if row is None:
            raise Open311Error(404, f"no service request {service_request_id}")
        return render(fmt, "service_requests", "request", [_request_row(row)])
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)
