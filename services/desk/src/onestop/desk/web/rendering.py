"""Pages: the Jinja2 templates (GOV.UK Frontend's markup), the navigation each role sees, and the pages
for what went wrong."""

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from onestop.desk.web.access import Role, Use, may
from onestop.desk.web.csrf import csrf_token

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
LONDON = ZoneInfo("Europe/London")
ROLE_NAMES = {
    Role.ADVISER: "adviser",
    Role.TEAM_LEADER: "team leader",
    Role.COMPLAINTS_MANAGER: "complaints manager",
    Role.ANALYST: "analyst",
}
NAVIGATION = (
    ("Find a customer", "/customers", Use.FIND_CUSTOMERS),
    ("Log a contact", "/contacts/new", Use.LOG_CONTACT),
    ("Work lists", "/worklists", Use.WORK_LISTS),
    ("Track a request", "/track", Use.TRACK),
    ("Traces", "/traces", Use.TRACE),
)


def when(moment: datetime | str | None, with_time: bool = True) -> str:
    """A moment as people in the council read it: London time, '3 November 2026 at 10:02'."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(LONDON)
    day = f"{local.day} {local:%B %Y}"
    return f"{day} at {local:%H:%M}" if with_time else day


def day(moment: datetime | str | None) -> str:
    return when(moment, with_time=False)


def words(name: str | None) -> str:
    """An identifier as words: `handed_off` → `handed off`."""
    return (name or "").replace("_", " ").replace("-", " ")


def team(name: str | None) -> str:
    """A team's id as its name: `street-scene-enforcement` → `Street Scene Enforcement`."""
    return " ".join(word.capitalize() for word in words(name).split())


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters["when"] = when
templates.env.filters["day"] = day
templates.env.filters["words"] = words
templates.env.filters["team"] = team
# Each form on a page carries an id of its own: sent twice (a double click, a refresh), a command applies once.
templates.env.globals["new_command_id"] = lambda: str(uuid.uuid4())


def page(request: Request, staff: Any, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page for the signed-in person: their navigation, and a CSRF token for its forms."""
    roles = frozenset(staff.roles) if staff is not None else frozenset()
    path = request.url.path
    navigation = [
        {"text": text, "href": href, "current": path == href or path.startswith(href + "/")}
        for text, href, use in NAVIGATION
        if may(roles, use)
    ]
    return templates.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "staff_roles": ", ".join(
                ROLE_NAMES.get(Role(r), r) for r in sorted(roles) if r in Role.__members__.values()
            ),
            "may": lambda use: may(roles, use),
            "Use": Use,
            "navigation": navigation,
            "csrf": csrf_token(request) if staff is not None else "",
            "errors": context.pop("errors", []),
            **context,
        },
        status_code=status_code,
    )


def problem_page(request: Request, staff: Any, status_code: int, title: str, message: str) -> HTMLResponse:
    return page(request, staff, "problem.html", status_code=status_code, title=title, message=message)
