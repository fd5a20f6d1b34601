"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), as FixMyStreet-style sites speak it.

Every resource comes as `.json` or `.xml`; errors are a list of `{code, description}` in either format.
Reads need no credentials; posting a request needs an `api_key` the council issued to the client.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from onestop.contracts.events.common import AssuranceLevel, Channel, CustomerDetails, Location
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.identifiers import case_id_for
from onestop.contracts.service_catalogue import ServiceArea, ServiceType, service_catalogue
from onestop.intake.handlers import Accepted, ContactRefused, IntakeService, KafkaUnavailable
from onestop.servicekit.database import Connection
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


Format = Literal["json", "xml"]


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def render(format_: str, root: str, item: str, rows: list[dict[str, Any]], status_code: int = 200) -> Response:
    if format_ == "xml":
        tree = Element(root)
        for row in rows:
            _xml_fill(SubElement(tree, item), row)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + tostring(tree, encoding="unicode").encode()
        return Response(body, status_code=status_code, media_type="text/xml; charset=utf-8")
    return JSONResponse(jsonable_encoder(rows), status_code=status_code)


def _xml_fill(element: Element, value: dict[str, Any]) -> None:
    for key, inner in value.items():
        if isinstance(inner, list):
            container = SubElement(element, key)
            singular = {"attributes": "attribute", "values": "value"}.get(key, key.rstrip("s"))
            for entry in inner:
                child = SubElement(container, singular)
                if isinstance(entry, dict):
                    _xml_fill(child, entry)
                else:
                    child.text = str(entry)
        else:
            child = SubElement(element, key)
            if isinstance(inner, bool):
                child.text = "true" if inner else "false"
            elif inner is not None:
                child.text = inner.isoformat() if isinstance(inner, datetime) else str(inner)


def error_response(format_: str, code: int, description: str) -> Response:
    return render(
        format_ if format_ in ("json", "xml") else "json",
        "errors",
        "error",
        [{"code": code, "description": description}],
        status_code=code,
    )


def _format(format_: str) -> str:
    if format_ not in ("json", "xml"):
        raise Open311Error(400, f"format must be json or xml, not {format_!r}")
    return format_


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


def intake(request: Request) -> IntakeService:
    return request.app.state.intake  # type: ignore[no-any-return]


Service = Annotated[IntakeService, Depends(intake)]


@router.get("/services.{format_}", summary="The service list")
async def services(format_: Format) -> Response:
    try:
        rows = [_service_row(area, service) for area, service in service_catalogue().services()]
        return render(_format(format_), "services", "service", rows)
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


@router.get("/services/{service_code}.{format_}", summary="A service definition with its attributes")
async def definition(service_code: str, format_: Format) -> Response:
    try:
        fmt = _format(format_)
        catalogue = service_catalogue()
        area = catalogue.area_of(service_code)
        if area is None:
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
        return _definition_xml(row) if fmt == "xml" else JSONResponse(row)
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


def _definition_xml(row: dict[str, Any]) -> Response:
    tree = Element("service_definition")
    _xml_fill(tree, row)
    return Response(
        b'<?xml version="1.0" encoding="utf-8"?>' + tostring(tree, encoding="unicode").encode(),
        media_type="text/xml; charset=utf-8",
    )


@router.post("/requests.{format_}", summary="Create a service request (needs an api_key)")
async def create_request(format_: Format, request: Request, service: Service) -> Response:
    try:
        fmt = _format(format_)
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        client = service.settings.open311_clients().get(fields.get("api_key", ""))
        if client is None:
            raise Open311Error(403, "a valid api_key is required to post a service request")
        code = fields.get("service_code", "")
        catalogue = service_catalogue()
        service_type, area = catalogue.service(code), catalogue.area_of(code)
        if service_type is None or area is None:
            raise Open311Error(400, f"service_code {code!r} is not one of ours; see services.json")
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
        customer = None
        if fields.get("email") or fields.get("phone") or name:
            customer = CustomerDetails(name=name, email=fields.get("email") or None, phone=fields.get("phone") or None)
        media = fields.get("media_url")
        need = Need(
            need_id=uuid4(),
            kind=service_type.kinds[0],
            service_code=code,
            description=description.strip()[:10_000],
            location=Location(
                latitude=lat,
                longitude=long,
                address=address,
                uprn=fields["address_id"] if fields.get("address_id", "").isdigit() else None,
            ),
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
        token = contact.contact_id

        async def record(connection: Connection) -> None:
            await connection.execute(
                """INSERT INTO open311_requests (token, contact_id, need_id, case_id, client, service_code,
                       service_name, description, address, lat, long, media_url, requested_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)""",
                token,
                contact.contact_id,
                need.need_id,
                case_id_for(contact.contact_id, need.need_id),
                client,
                code,
                service_type.name,
                need.description,
                address,
                lat,
                long,
                media,
                contact.received_at,
            )

        notice = SERVICE_NOTICE.format(days=service_type.standard_working_days)
        await service.take(
            contact,
            AssuranceLevel.NONE,
            lambda _: Accepted(201, {}),
            client=client,
            record=record,
            idempotency_key=request.headers.get("Idempotency-Key"),
            request_fingerprint=fields,
        )
        return render(
            fmt,
            "service_requests",
            "request",
            [{"token": str(token), "service_notice": notice, "account_id": fields.get("account_id")}],
            201,
        )
    except ContactRefused as exc:
        return error_response(format_, 400, exc.reason)
    except KafkaUnavailable:
        return error_response(format_, 503, "the request could not be recorded just now; please retry")
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


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
async def token(token: str, format_: Format, service: Service) -> Response:
    try:
        fmt = _format(format_)
        try:
            token_id = UUID(token)
        except ValueError as exc:
            raise Open311Error(404, f"no token {token}") from exc
        async with service.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT service_request_id FROM open311_requests WHERE token = $1", token_id
            )
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
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/requests.{format_}", summary="Service requests, with the standard filters")
async def list_requests(
    format_: Format,
    service: Service,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    try:
        fmt = _format(format_)
        clauses = ["service_request_id IS NOT NULL"]
        args: list[Any] = []
        if service_request_id:
            args.append([s.strip() for s in service_request_id.split(",")])
            clauses.append(f"service_request_id = ANY(${len(args)}::text[])")
        else:
            end = _w3c(end_date, "end_date") if end_date else datetime.now(UTC)
            start = _w3c(start_date, "start_date") if start_date else end - timedelta(days=90)
            args += [start, end]
            clauses.append(f"requested_at BETWEEN ${len(args) - 1} AND ${len(args)}")
            if service_code:
                args.append([c.strip() for c in service_code.split(",")])
                clauses.append(f"service_code = ANY(${len(args)}::text[])")
            if status:
                wanted = [s.strip() for s in status.split(",")]
                if not set(wanted) <= {"open", "closed"}:
                    raise Open311Error(400, "status must be open, closed or both")
                args.append(wanted)
                clauses.append(f"status = ANY(${len(args)}::text[])")
        async with service.pool.acquire() as connection:
            rows = await connection.fetch(
                f"SELECT * FROM open311_requests WHERE {' AND '.join(clauses)} ORDER BY requested_at DESC LIMIT 1000",
                *args,
            )
        return render(fmt, "service_requests", "request", [_request_row(r) for r in rows])
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)


@router.get("/requests/{service_request_id}.{format_}", summary="One service request")
async def get_request(service_request_id: str, format_: Format, service: Service) -> Response:
    try:
        fmt = _format(format_)
        async with service.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT * FROM open311_requests WHERE service_request_id = $1", service_request_id
            )
        if row is None:
            raise Open311Error(404, f"no service request {service_request_id}")
        return render(fmt, "service_requests", "request", [_request_row(row)])
    except Open311Error as exc:
        return error_response(format_, exc.code, exc.description)
