"""The cases HTTP API: work lists, the case, the single customer view, public tracking, and commands."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from onestop.cases.adapters.event_store import ConcurrencyConflict
from onestop.cases.domain.case import CaseRuleBroken
from onestop.cases.handlers import CaseService, Decision
from onestop.contracts import EventEnvelope
from onestop.contracts.events.back_office import HandOffAccepted, HandOffRejected, ProgressReported, WorkCompleted
from onestop.contracts.events.common import Actor
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.ratelimit import rate_limit

router = APIRouter()
Reader = Annotated[Principal, Depends(require("cases:read"))]
Writer = Annotated[Principal, Depends(require("cases:write"))]
BackOffice = Annotated[Principal, Depends(require("backoffice:write"))]

AGE_BANDS = (("0-10 days", 0, 10), ("11-30 days", 11, 30), ("31-60 days", 31, 60), ("over 60 days", 61, 100_000))


def service(request: Request) -> CaseService:
    return request.app.state.cases  # type: ignore[no-any-return]


Service = Annotated[CaseService, Depends(service)]


class Command(BaseModel):
    command_id: UUID | None = Field(default=None, description="Send the same id again and nothing is applied twice")


class NoteCommand(Command):
    text: str = Field(min_length=1, max_length=10_000)
    internal: bool = True


class AssignCommand(Command):
    team: str = Field(min_length=1, max_length=120)
    owner: str | None = Field(default=None, max_length=120)
    reason: str = Field(default="", max_length=500)
    rerouted: bool = Field(default=False, description="The case had been routed to the wrong place")


class ResolveCommand(Command):
    outcome: str = Field(min_length=1, max_length=2000)


class DeclineCommand(Command):
    reason: str = Field(min_length=1, max_length=2000)
    policy_reference: str | None = Field(default=None, max_length=200)


class ReopenCommand(Command):
    reason: str = Field(min_length=1, max_length=2000)


class Accepted(BaseModel):
    work_item_id: str = Field(min_length=1, max_length=120)
    expected_by: datetime | None = None


class Progress(BaseModel):
    work_item_id: str = Field(min_length=1, max_length=120)
    note: str = Field(min_length=1, max_length=2000)
    public: bool = True
    expected_by: datetime | None = None


class Completed(BaseModel):
    work_item_id: str = Field(min_length=1, max_length=120)
    outcome: str = Field(min_length=1, max_length=2000)
    declined: bool = False


class Rejected(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    suggested_team: str | None = Field(default=None, max_length=120)


def _actor(principal: Principal) -> Actor:
    return Actor(
        kind=principal.kind if principal.kind in ("agent", "councillor", "system") else "agent", id=principal.subject
    )


async def _summary(cases: CaseService, case_id: UUID) -> dict[str, Any]:
    async with cases.pool.acquire() as connection:
        row = await connection.fetchrow("SELECT * FROM case_summary WHERE case_id = $1", case_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return dict(row)


async def _run(cases: CaseService, case_id: UUID, decide: Decision, command_id: UUID | None = None) -> dict[str, Any]:
    await _summary(cases, case_id)
    try:
        stored = await cases.execute(case_id, decide, command_id=command_id, attempts=1)
    except CaseRuleBroken as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, exc.reason) from exc
    except ConcurrencyConflict as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the case changed while you were acting on it; try again"
        ) from exc
    return {"case": await _summary(cases, case_id), "events": [_event_view(e) for e in stored]}


def _event_view(envelope: EventEnvelope) -> dict[str, Any]:
    return {"id": envelope.id, "type": envelope.type, "time": envelope.time}


# --- reads ------------------------------------------------------------------------------------------


@router.get("/cases", summary="Cases, filtered and paginated")
async def list_cases(
    cases: Service,
    _: Reader,
    service_area: str | None = None,
    team: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    clauses, args = [], []
    for column, value in (("service_area", service_area), ("team", team), ("status", status_)):
        if value is not None:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    if open_only:
        clauses.append("status NOT IN ('closed', 'resolved', 'declined')")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    async with cases.pool.acquire() as connection:
        total = await connection.fetchval(f"SELECT count(*) FROM case_summary {where}", *args)
        rows = await connection.fetch(
            f"SELECT * FROM case_summary {where} ORDER BY raised_at LIMIT {limit} OFFSET {offset}", *args
        )
    return {"total": total, "limit": limit, "offset": offset, "items": [dict(r) for r in rows]}


@router.get("/cases/{case_id}", summary="One case with its history")
async def get_case(case_id: UUID, cases: Service, _: Reader) -> dict[str, Any]:
    summary = await _summary(cases, case_id)
    async with cases.pool.acquire() as connection:
        history = await connection.fetch(
            "SELECT event_id, event_type, recorded_at FROM events WHERE case_id = $1 ORDER BY version", case_id
        )
    return {"case": summary, "history": [dict(r) for r in history]}


@router.get("/worklists", summary="Open cases by service area and team, in age bands")
async def worklists(
    cases: Service, _: Reader, service_area: str | None = None, team: str | None = None
) -> dict[str, Any]:
    now = cases.clock()
    async with cases.pool.acquire() as connection:
        rows = await connection.fetch(
            """SELECT case_id, reference, service_area, team, status, raised_at, sla_due_at FROM case_summary
               WHERE status IN ('raised', 'handed_off', 'accepted', 'in_progress')
                 AND ($1::text IS NULL OR service_area = $1) AND ($2::text IS NULL OR team = $2)
               ORDER BY raised_at""",
            service_area,
            team,
        )
    bands: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in AGE_BANDS}
    for row in rows:
        age = max(0, (now - row["raised_at"]).days)
        label = next(label for label, low, high in AGE_BANDS if low <= age <= high)
        bands[label].append(
            dict(row) | {"days_open": age, "overdue": bool(row["sla_due_at"] and now > row["sla_due_at"])}
        )
    return {"as_of": now, "bands": bands}


@router.get("/customers/{customer_id}", summary="The single customer view: every contact and case")
async def customer_view(customer_id: UUID, cases: Service, _: Reader) -> dict[str, Any]:
    async with cases.pool.acquire() as connection:
        ids = [
            customer_id,
            *[
                r["merged_id"]
                for r in await connection.fetch(
                    "SELECT merged_id FROM customer_merges WHERE surviving_id = $1", customer_id
                )
            ],
        ]
        contacts = await connection.fetch(
            "SELECT * FROM customer_contacts WHERE customer_id = ANY($1::uuid[]) ORDER BY received_at", ids
        )
        customer_cases = await connection.fetch(
            "SELECT * FROM case_summary WHERE customer_id = ANY($1::uuid[]) ORDER BY raised_at", ids
        )
    if not contacts and not customer_cases:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"nothing is held about customer {customer_id}")
    return {
        "customer_id": customer_id,
        "records": ids,
        "contacts": [dict(r) for r in contacts],
        "cases": [dict(r) for r in customer_cases],
    }


@router.get(
    "/track/{reference}",
    summary="Public tracking by reference: status and expected date, no personal data",
    dependencies=[Depends(rate_limit(per_minute=60))],
)
async def track(reference: str, cases: Service) -> dict[str, Any]:
    async with cases.pool.acquire() as connection:
        row = await connection.fetchrow(
            """SELECT reference, status, service_area, raised_at, expected_by, closed_at, outcome, public_note
               FROM case_summary WHERE reference = $1""",
            reference.upper(),
        )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no request with reference {reference}")
    return dict(row)


# --- commands ----------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/notes", summary="Add a note")
async def add_note(case_id: UUID, body: NoteCommand, cases: Service, caller: Writer) -> dict[str, Any]:
    now = cases.clock()
    return await _run(
        cases, case_id, lambda c: c.add_note(body.text, _actor(caller), now, body.internal), body.command_id
    )


@router.post("/cases/{case_id}/assign", summary="Assign to a team or person")
async def assign(case_id: UUID, body: AssignCommand, cases: Service, _: Writer) -> dict[str, Any]:
    now = cases.clock()
    return await _run(
        cases, case_id, lambda c: c.reassign(body.team, now, body.owner, body.reason, body.rerouted), body.command_id
    )


@router.post("/cases/{case_id}/resolve", summary="Resolve and close")
async def resolve(case_id: UUID, body: ResolveCommand, cases: Service, caller: Writer) -> dict[str, Any]:
    now = cases.clock()
    return await _run(cases, case_id, lambda c: c.resolve(body.outcome, _actor(caller), now), body.command_id)


@router.post("/cases/{case_id}/decline", summary="Decline with a reason, and close")
async def decline(case_id: UUID, body: DeclineCommand, cases: Service, caller: Writer) -> dict[str, Any]:
    now = cases.clock()
    return await _run(
        cases, case_id, lambda c: c.decline(body.reason, _actor(caller), now, body.policy_reference), body.command_id
    )


@router.post("/cases/{case_id}/close", summary="Close as withdrawn")
async def close(case_id: UUID, body: Command, cases: Service, _: Writer) -> dict[str, Any]:
    now = cases.clock()
    return await _run(cases, case_id, lambda c: c.withdraw(now), body.command_id)


@router.post("/cases/{case_id}/reopen", summary="Reopen within the reopening window")
async def reopen(case_id: UUID, body: ReopenCommand, cases: Service, caller: Writer) -> dict[str, Any]:
    now, window = cases.clock(), cases.reopen_window
    return await _run(cases, case_id, lambda c: c.reopen(body.reason, _actor(caller), now, window), body.command_id)


@router.post("/cases/{case_id}/complaint/escalate", summary="Escalate a complaint to its next stage")
async def escalate_complaint(case_id: UUID, body: Command, cases: Service, _: Writer) -> dict[str, Any]:
    now = cases.clock()
    return await _run(
        cases, case_id, lambda c: c.escalate_complaint(now, cases.calendar, cases.complaints), body.command_id
    )


@router.post("/admin/escalations/sweep", summary="Check every open case for due escalations now")
async def sweep(cases: Service, _: Writer) -> dict[str, int]:
    return {"escalated": await cases.sweep_escalations()}


# --- back-office systems without Kafka -------------------------------------------------------------


async def _back_office(cases: CaseService, caller: Principal, case_id: UUID, decide: Decision) -> dict[str, Any]:
    summary = await _summary(cases, case_id)
    if not caller.may_act_on(summary["service_area"]):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this system may not act on {summary['service_area']} cases")
    return await _run(cases, case_id, decide)


@router.post("/back-office/cases/{case_id}/accepted", summary="A back-office system took the work on")
async def bo_accepted(case_id: UUID, body: Accepted, cases: Service, caller: BackOffice) -> dict[str, Any]:
    report = HandOffAccepted(
        case_id=case_id,
        system=caller.subject,
        work_item_id=body.work_item_id,
        accepted_at=cases.clock(),
        expected_by=body.expected_by,
    )
    return await _back_office(cases, caller, case_id, lambda c: c.accept(report))


@router.post("/back-office/cases/{case_id}/progress", summary="A back-office system reports progress")
async def bo_progress(case_id: UUID, body: Progress, cases: Service, caller: BackOffice) -> dict[str, Any]:
    report = ProgressReported(
        case_id=case_id,
        system=caller.subject,
        work_item_id=body.work_item_id,
        reported_at=cases.clock(),
        note=body.note,
        public=body.public,
        expected_by=body.expected_by,
    )
    return await _back_office(cases, caller, case_id, lambda c: c.progress_from(report))


@router.post("/back-office/cases/{case_id}/completed", summary="The back-office work is done; the case closes")
async def bo_completed(case_id: UUID, body: Completed, cases: Service, caller: BackOffice) -> dict[str, Any]:
    report = WorkCompleted(
        case_id=case_id,
        system=caller.subject,
        work_item_id=body.work_item_id,
        completed_at=cases.clock(),
        outcome=body.outcome,
        declined=body.declined,
    )
    return await _back_office(cases, caller, case_id, lambda c: c.complete(report))


@router.post("/back-office/cases/{case_id}/rejected", summary="Not this system's work: route it again")
async def bo_rejected(case_id: UUID, body: Rejected, cases: Service, caller: BackOffice) -> dict[str, Any]:
    report = HandOffRejected(
        case_id=case_id,
        system=caller.subject,
        rejected_at=cases.clock(),
        reason=body.reason,
        suggested_team=body.suggested_team,
    )
    triage = cases.settings.cases_triage_team
    return await _back_office(cases, caller, case_id, lambda c: c.reject_hand_off(report, triage))
