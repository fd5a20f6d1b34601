"""Team work lists: a team's open cases, the most pressing first (by priority, then by how soon the service
level runs out)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from onestop.contracts.service_catalogue import service_catalogue
from onestop.desk.web.access import Use
from onestop.desk.web.customers import service_name
from onestop.desk.web.visit import Visitor

router = APIRouter()
PRIORITY_ORDER = {"emergency": 0, "urgent": 1, "normal": 2}
NEVER = datetime.max.replace(tzinfo=UTC)


def due(case: dict[str, Any]) -> datetime:
    value = case.get("sla_due_at")
    return datetime.fromisoformat(value) if value else NEVER


def most_pressing_first(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Emergencies before urgent before normal; within each, the service level that runs out first (cases
    with none last); then the oldest."""
    return sorted(cases, key=lambda c: (PRIORITY_ORDER.get(c.get("priority", "normal"), 3), due(c), c["raised_at"]))


def clock(case: dict[str, Any], now: datetime) -> dict[str, Any]:
    """How the service level stands: overdue, due today, or days left."""
    deadline = due(case)
    if deadline is NEVER:
        return {"text": "No service level", "colour": "grey"}
    if deadline < now:
        days = (now - deadline).days
        return {"text": f"Overdue by {days} {'day' if days == 1 else 'days'}" if days else "Overdue", "colour": "red"}
    days = (deadline - now).days
    if days == 0:
        return {"text": "Due today", "colour": "orange"}
    return {"text": f"{days} {'day' if days == 1 else 'days'} left", "colour": "green" if days > 2 else "yellow"}


@router.get("/worklists", response_class=HTMLResponse)
async def worklists(
    visit: Visitor,
    service_area: Annotated[str, Query(max_length=60)] = "",
    team: Annotated[str, Query(max_length=120)] = "",
) -> HTMLResponse:
    visit.check(Use.WORK_LISTS)
    areas = [("", "Every service area")] + [(area.id, area.name) for area in service_catalogue().areas]
    cases, more = await visit.services.open_cases(team=team or None, service_area=service_area or None)
    now = datetime.now(UTC)
    rows = [
        case | {"service": service_name(case.get("service_code")), "clock": clock(case, now)}
        for case in most_pressing_first(cases)
    ]
    teams = sorted({case["team"] for case in cases if case.get("team")})
    return visit.page(
        "worklists.html",
        title=f"Work list: {team}" if team else "Work lists",
        cases=rows,
        more=more,
        areas=areas,
        service_area=service_area,
        team=team,
        teams=teams,
    )
