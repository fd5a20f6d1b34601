"""Find a customer, and their single view: every contact on every channel, their cases, what we sent them
and how they want to hear from us."""

import math
import re
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from onestop.contracts.service_catalogue import service_catalogue
from onestop.desk.api_client import ServiceRefused
from onestop.desk.web.access import Use
from onestop.desk.web.visit import Visitor

router = APIRouter()
PAGE_SIZE = 20
MAX_PAGE = 50  # the cases service's deepest page: past it, a narrower search serves better
REFERENCE = re.compile(r"^OS-[0-9A-Z]{4}-[0-9A-Z]{4}$", re.IGNORECASE)


def service_name(code: str | None) -> str:
    service = service_catalogue().service(code) if code else None
    return service.name if service else (code or "")


def area_name(area_id: str | None) -> str:
    area = service_catalogue().area(area_id) if area_id else None
    return area.name if area else (area_id or "")


def customer_name(item: dict[str, Any]) -> str:
    customer = item.get("customer")
    if isinstance(customer, dict) and customer.get("name"):
        return str(customer["name"])
    return str(item.get("customer_name") or "")


def page_links(path: str, query: dict[str, str], page: int, pages: int) -> dict[str, Any]:
    """GOV.UK pagination: previous, next and the numbers around this page."""

    def href(number: int) -> str:
        return f"{path}?{urlencode({**query, 'page': number})}"

    numbers = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    return {
        "previous_href": href(page - 1) if page > 1 else "",
        "next_href": href(page + 1) if page < pages else "",
        "pages": [(n, href(n), n == page) for n in numbers] if pages > 1 else [],
    }


@router.get("/", response_class=HTMLResponse)
async def start(visit: Visitor) -> HTMLResponse:
    return visit.page("start.html", title="What do you want to do?")


@router.get("/customers", response_class=HTMLResponse)
async def find_customer(
    visit: Visitor,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    visit.check(Use.FIND_CUSTOMERS)
    query = q.strip()
    if not query:
        return visit.page("customers.html", title="Find a customer", q="", results=None)
    try:
        found = await visit.services.search(query, page, PAGE_SIZE)
    except ServiceRefused as exc:
        errors = [{"text": exc.reason, "href": "#q", "field": "q"}]
        return visit.page(
            "customers.html", exc.status_code, title="Find a customer", q=query, results=None, errors=errors
        )
    total = int(found.get("total", 0))
    items = [
        item
        | {
            "service": service_name(item.get("service_code")),
            "name": customer_name(item),
        }
        for item in found.get("items", [])
    ]
    pages = min(MAX_PAGE, max(1, math.ceil(total / PAGE_SIZE)))
    return visit.page(
        "customers.html",
        title="Find a customer",
        q=query,
        results=items,
        total=total,
        **page_links("/customers", {"q": query}, page, pages),
    )


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def single_view(customer_id: UUID, visit: Visitor) -> HTMLResponse:
    visit.check(Use.FIND_CUSTOMERS)
    view = await visit.services.customer(customer_id)
    if view is None:
        return visit.page(
            "problem.html", 404, title="Customer not found", message="Nothing is held about this customer."
        )
    sent = await visit.services.notifications(customer_id) or {}
    cases = [case | {"service": service_name(case.get("service_code"))} for case in view.get("cases", [])]
    # Who they are, as their latest case holds it (opened with their key; empty once they are erased).
    latest = await visit.services.case(cases[-1]["case_id"]) if cases else None
    details = (latest or {}).get("customer") or {}
    return visit.page(
        "customer.html",
        title=details.get("name") or "Customer",
        customer_id=customer_id,
        details=details,
        contacts=view.get("contacts", []),
        cases=cases,
        notifications=sent.get("items", []),
        preferences=sent.get("preferences"),
    )
