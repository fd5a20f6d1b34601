"""The case page and what a case worker does to a case: note, reassign, resolve, decline with a reason,
escalate a complaint, reopen. A command the cases service refuses is shown in the error summary with its
reason."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from onestop.desk.api_client import ServiceRefused
from onestop.desk.web.access import Use
from onestop.desk.web.csrf import checked_form
from onestop.desk.web.customers import area_name, customer_name, service_name
from onestop.desk.web.visit import Visit, Visitor

router = APIRouter()
Form = Annotated[FormData, Depends(checked_form)]
FINISHED = ("resolved", "declined", "closed")


@dataclass(frozen=True)
class Action:
    """A form on the case page and the command it sends."""

    path: str  # under /cases/{id}/ in the cases API
    use: Use
    required: tuple[tuple[str, str], ...]  # (field, what to say when it is empty)
    done: str  # the banner once it is done


ACTIONS = {
    "note": Action("notes", Use.WORK_CASE, (("note-text", "Enter the note"),), "Note added"),
    "reassign": Action(
        "assign", Use.REASSIGN, (("reassign-team", "Enter the team to give the case to"),), "Case reassigned"
    ),
    "resolve": Action(
        "resolve", Use.WORK_CASE, (("resolve-outcome", "Say what was done for the customer"),), "Case resolved"
    ),
    "decline": Action(
        "decline", Use.WORK_CASE, (("decline-reason", "Enter the reason for declining"),), "Case declined"
    ),
    "escalate": Action("complaint/escalate", Use.ESCALATE_COMPLAINT, (), "Complaint escalated to its next stage"),
    "reopen": Action("reopen", Use.WORK_CASE, (("reopen-reason", "Enter why the case is reopened"),), "Case reopened"),
}


def command_body(action: str, form: FormData) -> dict[str, Any]:
    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    command_id = text("command_id")
    body: dict[str, Any] = {"command_id": command_id} if _is_uuid(command_id) else {}
    if action == "note":
        body |= {"text": text("note-text"), "internal": text("note-public") != "yes"}
    elif action == "reassign":
        body |= {
            "team": text("reassign-team"),
            "owner": text("reassign-owner") or None,
            "reason": text("reassign-reason"),
        }
    elif action == "resolve":
        body |= {"outcome": text("resolve-outcome")}
    elif action == "decline":
        body |= {"reason": text("decline-reason"), "policy_reference": text("decline-policy") or None}
    elif action == "reopen":
        body |= {"reason": text("reopen-reason")}
    return body


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def history_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's history in plain English, as the cases service tells it."""
    return [{"text": entry["text"], "at": entry.get("at")} for entry in body.get("history", []) if entry.get("text")]


async def case_page(
    visit: Visit,
    case_id: UUID,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    banner: dict[str, Any] | None = None,
) -> HTMLResponse:
    body = await visit.services.case(case_id)
    if body is None:
        return visit.page(
            "problem.html",
            404,
            title="Case not found",
            message="There is no such case, or it is not one of your service areas.",
        )
    case = body["case"]
    details = case | {k: v for k, v in body.items() if k not in ("case", "history", "events")}
    return visit.page(
        "case.html",
        status_code,
        title=f"Case {case['reference']}",
        case=details,
        service=service_name(case.get("service_code")),
        area=area_name(case.get("service_area")),
        name=customer_name(details),
        history=history_lines(body),
        notes=body.get("notes", []),
        finished=case.get("status") in FINISHED,
        errors=errors or [],
        values=values or {},
        banner=banner,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def show_case(case_id: UUID, visit: Visitor, done: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    visit.check(Use.SEE_CASE)
    banner = {"success": True, "text": ACTIONS[done].done} if done in ACTIONS else None
    return await case_page(visit, case_id, banner=banner)


@router.post("/cases/{case_id}/{action}", response_class=HTMLResponse)
async def act_on_case(case_id: UUID, action: str, visit: Visitor, form: Form) -> Response:
    if action not in ACTIONS:
        return visit.page("problem.html", 404, title="Page not found", message="There is no such action on a case.")
    command = ACTIONS[action]
    visit.check(command.use)
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    missing = [
        {"field": field, "text": text, "href": f"#{field}"}
        for field, text in command.required
        if not values.get(field, "").strip()
    ]
    if missing:
        return await case_page(visit, case_id, 400, missing, values)
    try:
        await visit.services.command(case_id, command.path, command_body(action, form))
    except ServiceRefused as exc:
        first = command.required[0][0] if command.required else f"{action}-button"
        refused = [{"field": first, "text": exc.reason, "href": f"#{first}"}]
        return await case_page(visit, case_id, exc.status_code, refused, values)
    return RedirectResponse(f"/cases/{case_id}?done={action}", status_code=303)
