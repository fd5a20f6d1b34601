"""The cases HTTP API for staff and the public: work lists, the case, the single customer view, public
tracking, and case workers' commands (back-office systems have theirs in `back_office_api`).

A caller limited to service areas reads, lists and acts on the cases of those areas only; a case of another
area answers 404, as if it did not exist, so that its existence is not given away.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, field_validator

from onestop.cases.adapters.event_store import ConcurrencyConflict
from onestop.cases.adapters.views import CaseViews
from onestop.cases.changes import Decision
from onestop.cases.commands import CaseCommands
from onestop.cases.domain.case import CaseRuleBroken
from onestop.cases.tracking_page import not_found_page, tracking_page
from onestop.contracts.events.common import Actor
from onestop.contracts.service_catalogue import service_catalogue
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import CleanLine, CleanText, Page
from onestop.servicekit.pages import language_of, wants_html
from onestop.servicekit.ratelimit import rate_limit

router = APIRouter()
Reader = Annotated[Principal, Depends(require("cases:read"))]
Writer = Annotated[Principal, Depends(require("cases:write"))]

AGE_BANDS = (("0-10 days", 0, 10), ("11-30 days", 11, 30), ("31-60 days", 31, 60), ("over 60 days", 61, 100_000))


async def case_commands(request: Request) -> CaseCommands:
    return request.app.state.commands  # type: ignore[no-any-return]


async def case_views(request: Request) -> CaseViews:
    return request.app.state.views  # type: ignore[no-any-return]


Commands = Annotated[CaseCommands, Depends(case_commands)]
Views = Annotated[CaseViews, Depends(case_views)]
Outcome = dict[str, Any]


class Command(BaseModel):
    command_id: UUID | None = Field(default=None, description="Send the same id again and nothing is applied twice")


class NoteCommand(Command):
    text: CleanText = Field(min_length=1, max_length=10_000)
    internal: bool = True


class AssignCommand(Command):
    team: CleanLine = Field(min_length=1, max_length=120)
    owner: CleanLine | None = Field(default=None, max_length=120)
    reason: CleanText = Field(default="", max_length=500)
    rerouted: bool = Field(default=False, description="The case had been routed to the wrong place")


class ResolveCommand(Command):
    outcome: CleanText = Field(min_length=1, max_length=2000)


class DeclineCommand(Command):
    reason: CleanText = Field(min_length=1, max_length=2000)
    policy_reference: CleanLine | None = Field(default=None, max_length=200)


class ReopenCommand(Command):
    reason: CleanText = Field(min_length=1, max_length=2000)


class ComplaintDetailsCommand(Command):
    services_involved: list[CleanLine] = Field(
        default_factory=list, max_length=20, description="Other service areas the complaint spans"
    )
    about_contractor: CleanLine | None = Field(default=None, max_length=200, description="The contractor complained of")
    via_councillor: CleanLine | None = Field(default=None, max_length=200, description="The councillor it came through")

    @field_validator("services_involved")
    @classmethod
    def _known_service_areas(cls, areas: list[str]) -> list[str]:
        unknown = [area for area in areas if service_catalogue().area(area) is None]
        if unknown:
            raise ValueError(f"not service areas of the catalogue: {', '.join(unknown)}")
        return areas


class OmbudsmanCommand(Command):
    ombudsman_reference: CleanLine | None = Field(default=None, max_length=60)


def actor(principal: Principal) -> Actor:
    return Actor(
        kind=principal.kind if principal.kind in ("agent", "councillor", "system") else "agent", id=principal.subject
    )


async def case_summary(views: CaseViews, caller: Principal, case_id: UUID) -> dict[str, Any]:
    """The case, if it exists and is in the caller's areas; 404 alike for both, so nothing is given away."""
    summary = await views.summary(case_id)
    areas = caller.areas_limit
    if summary is None or (areas is not None and summary["service_area"] not in areas):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return summary


async def run_command(
    commands: CaseCommands,
    views: CaseViews,
    caller: Principal,
    case_id: UUID,
    decide: Decision,
    command_id: UUID | None = None,
) -> Outcome:
    """Apply a command to an existing case of the caller's areas: the case afterwards and the events it
    made, or why not. (A case never changes service area, so the check before the command holds after.)"""
    await case_summary(views, caller, case_id)
    try:
        stored = await commands.execute(case_id, decide, command_id=command_id, attempts=1)
    except CaseRuleBroken as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, exc.reason) from exc
    except ConcurrencyConflict as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the case changed while you were acting on it; try again"
        ) from exc
    events = [{"id": e.id, "type": e.type, "time": e.time} for e in stored]
    return {"case": await case_summary(views, caller, case_id), "events": events}


# --- reads ------------------------------------------------------------------------------------------


@router.get("/cases", summary="Cases, filtered and paginated")
async def list_cases(
    views: Views,
    caller: Reader,
    page: Page,
    service_area: str | None = None,
    team: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    open_only: bool = False,
    reference: Annotated[
        str | None, Query(max_length=20, description="a case's reference, or a linked report's, which finds its case")
    ] = None,
) -> dict[str, Any]:
    total, items = await views.cases(
        within_areas=caller.areas_limit,
        reference=reference,
        service_area=service_area,
        team=team,
        status=status_,
        open_only=open_only,
        limit=page.limit,
        offset=page.offset,
    )
    return {"total": total, "limit": page.limit, "offset": page.offset, "items": items}


@router.get("/complaints/report", summary="Complaints by stage, what they span, and ombudsman referrals")
async def complaints_report(views: Views, caller: Reader) -> dict[str, Any]:
    return await views.complaints_report(within_areas=caller.areas_limit)


@router.get("/cases/{case_id}", summary="One case with its history")
async def get_case(case_id: UUID, views: Views, caller: Reader) -> dict[str, Any]:
    summary = await case_summary(views, caller, case_id)
    return {"case": summary, "history": await views.history(case_id)}


@router.get("/worklists", summary="Open cases by service area and team, in age bands")
async def worklists(
    commands: Commands, views: Views, caller: Reader, service_area: str | None = None, team: str | None = None
) -> dict[str, Any]:
    now = commands.clock()
    bands: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in AGE_BANDS}
    for case in await views.open_cases(within_areas=caller.areas_limit, service_area=service_area, team=team):
        age = max(0, (now - case["raised_at"]).days)
        label = next(label for label, low, high in AGE_BANDS if low <= age <= high)
        overdue = bool(case["sla_due_at"] and now > case["sla_due_at"])
        bands[label].append(case | {"days_open": age, "overdue": overdue})
    return {"as_of": now, "bands": bands}


@router.get("/customers/{customer_id}", summary="The single customer view: every contact and case")
async def customer_view(customer_id: UUID, views: Views, caller: Reader) -> dict[str, Any]:
    records, contacts, customer_cases = await views.customer(customer_id, within_areas=caller.areas_limit)
    if not contacts and not customer_cases:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"nothing is held about customer {customer_id}")
    return {"customer_id": customer_id, "records": records, "contacts": contacts, "cases": customer_cases}


@router.get(
    "/track/{reference}",
    summary="Public tracking by reference: status, expected date and what happened so far, no personal data",
    response_model=None,
    dependencies=[Depends(rate_limit(per_minute=60))],
)
async def track(reference: str, request: Request, views: Views) -> dict[str, Any] | HTMLResponse:
    """A browser (the link in a message) gets the page, in the language `?lang=` asks for; others get JSON."""
    tracked = await views.tracking(reference)
    if wants_html(request):
        language = language_of(request)
        return not_found_page(language) if tracked is None else tracking_page(tracked, language)
    if tracked is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no request with reference {reference}")
    return tracked


# --- commands ----------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/notes", summary="Add a note")
async def add_note(case_id: UUID, body: NoteCommand, commands: Commands, views: Views, caller: Writer) -> Outcome:
    now = commands.clock()
    return await run_command(
        commands,
        views,
        caller,
        case_id,
        lambda c: c.add_note(body.text, actor(caller), now, body.internal),
        body.command_id,
    )


@router.post("/cases/{case_id}/assign", summary="Assign to a team or person")
async def assign(case_id: UUID, body: AssignCommand, commands: Commands, views: Views, caller: Writer) -> Outcome:
    now = commands.clock()
    return await run_command(
        commands,
        views,
        caller,
        case_id,
        lambda c: c.reassign(body.team, now, body.owner, body.reason, body.rerouted),
        body.command_id,
    )


@router.post("/cases/{case_id}/resolve", summary="Resolve and close")
async def resolve(case_id: UUID, body: ResolveCommand, commands: Commands, views: Views, caller: Writer) -> Outcome:
    now = commands.clock()
    return await run_command(
        commands, views, caller, case_id, lambda c: c.resolve(body.outcome, actor(caller), now), body.command_id
    )


@router.post("/cases/{case_id}/decline", summary="Decline with a reason, and close")
async def decline(case_id: UUID, body: DeclineCommand, commands: Commands, views: Views, caller: Writer) -> Outcome:
    now = commands.clock()
    return await run_command(
        commands,
        views,
        caller,
        case_id,
        lambda c: c.decline(body.reason, actor(caller), now, body.policy_reference),
        body.command_id,
    )


@router.post("/cases/{case_id}/close", summary="Close as withdrawn")
async def close(case_id: UUID, body: Command, commands: Commands, views: Views, caller: Writer) -> Outcome:
    now = commands.clock()
    return await run_command(commands, views, caller, case_id, lambda c: c.withdraw(now), body.command_id)


@router.post("/cases/{case_id}/reopen", summary="Reopen within the reopening window")
async def reopen(case_id: UUID, body: ReopenCommand, commands: Commands, views: Views, caller: Writer) -> Outcome:
    now, window = commands.clock(), commands.reopen_window
    return await run_command(
        commands,
        views,
        caller,
        case_id,
        lambda c: c.reopen(body.reason, actor(caller), now, window),
        body.command_id,
    )


@router.post("/cases/{case_id}/complaint/escalate", summary="Escalate a complaint to its next stage")
async def escalate_complaint(case_id: UUID, body: Command, commands: Commands, views: Views, caller: Writer) -> Outcome:
    now = commands.clock()
    return await run_command(
        commands,
        views,
        caller,
        case_id,
        lambda c: c.escalate_complaint(now, commands.calendar, commands.complaints),
        body.command_id,
    )


@router.post("/cases/{case_id}/complaint/details", summary="Record what a complaint spans, and who it came through")
async def record_complaint_details(
    case_id: UUID, body: ComplaintDetailsCommand, commands: Commands, views: Views, caller: Writer
) -> Outcome:
    now = commands.clock()
    return await run_command(
        commands,
        views,
        caller,
        case_id,
        lambda c: c.record_complaint_details(now, body.services_involved, body.about_contractor, body.via_councillor),
        body.command_id,
    )


@router.post("/cases/{case_id}/complaint/ombudsman", summary="Record that a complaint went to the ombudsman")
async def refer_to_ombudsman(
    case_id: UUID, body: OmbudsmanCommand, commands: Commands, views: Views, caller: Writer
) -> Outcome:
    now = commands.clock()
    return await run_command(
        commands,
        views,
        caller,
        case_id,
        lambda c: c.refer_to_ombudsman(now, commands.complaints, body.ombudsman_reference),
        body.command_id,
    )


@router.post("/admin/escalations/sweep", summary="Check every open case of the caller's areas for due escalations now")
async def sweep(commands: Commands, caller: Writer) -> dict[str, int]:
    return {"escalated": await commands.sweep_escalations(within_areas=caller.areas_limit)}
