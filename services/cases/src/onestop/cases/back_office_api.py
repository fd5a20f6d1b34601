"""The REST way in for back-office systems without Kafka: the same reports as `onestop.back-office.v1`,
each limited to the service areas in the calling system's token (a case of another area answers 404)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from onestop.cases.api import Commands, Outcome, Views, run_command
from onestop.contracts.events.back_office import HandOffAccepted, HandOffRejected, ProgressReported, WorkCompleted
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import CleanLine, CleanText, Timestamp

router = APIRouter()
BackOffice = Annotated[Principal, Depends(require("backoffice:write"))]


class Accepted(BaseModel):
    work_item_id: CleanLine = Field(min_length=1, max_length=120)
    expected_by: Timestamp | None = None


class Progress(BaseModel):
    work_item_id: CleanLine = Field(min_length=1, max_length=120)
    note: CleanText = Field(min_length=1, max_length=2000)
    public: bool = Field(default=False, description="The customer is shown the note only when true")
    expected_by: Timestamp | None = None


class Completed(BaseModel):
    work_item_id: CleanLine = Field(min_length=1, max_length=120)
    outcome: CleanText = Field(min_length=1, max_length=2000)
    declined: bool = False


class Rejected(BaseModel):
    reason: CleanText = Field(min_length=1, max_length=2000)
    suggested_team: CleanLine | None = Field(default=None, max_length=120)


def _areas(caller: Principal) -> tuple[str, ...]:
    """The reporting system's areas, stamped on its report as a system on Kafka states them."""
    return tuple(sorted(caller.service_areas))


@router.post("/back-office/cases/{case_id}/accepted", summary="A back-office system took the work on")
async def accepted(case_id: UUID, body: Accepted, commands: Commands, views: Views, caller: BackOffice) -> Outcome:
    report = HandOffAccepted(
        case_id=case_id,
        system=caller.subject,
        service_areas=_areas(caller),
        work_item_id=body.work_item_id,
        accepted_at=commands.clock(),
        expected_by=body.expected_by,
    )
    return await run_command(commands, views, caller, case_id, lambda c: c.accept(report))


@router.post("/back-office/cases/{case_id}/progress", summary="A back-office system reports progress")
async def progress(case_id: UUID, body: Progress, commands: Commands, views: Views, caller: BackOffice) -> Outcome:
    report = ProgressReported(
        case_id=case_id,
        system=caller.subject,
        service_areas=_areas(caller),
        work_item_id=body.work_item_id,
        reported_at=commands.clock(),
        note=body.note,
        public=body.public,
        expected_by=body.expected_by,
    )
    return await run_command(commands, views, caller, case_id, lambda c: c.progress_from(report))


@router.post("/back-office/cases/{case_id}/completed", summary="The back-office work is done; the case closes")
async def completed(case_id: UUID, body: Completed, commands: Commands, views: Views, caller: BackOffice) -> Outcome:
    report = WorkCompleted(
        case_id=case_id,
        system=caller.subject,
        service_areas=_areas(caller),
        work_item_id=body.work_item_id,
        completed_at=commands.clock(),
        outcome=body.outcome,
        declined=body.declined,
    )
    return await run_command(commands, views, caller, case_id, lambda c: c.complete(report))


@router.post("/back-office/cases/{case_id}/rejected", summary="Not this system's work: route it again")
async def rejected(case_id: UUID, body: Rejected, commands: Commands, views: Views, caller: BackOffice) -> Outcome:
    report = HandOffRejected(
        case_id=case_id,
        system=caller.subject,
        service_areas=_areas(caller),
        rejected_at=commands.clock(),
        reason=body.reason,
        suggested_team=body.suggested_team,
    )
    triage = commands.triage_team
    return await run_command(commands, views, caller, case_id, lambda c: c.reject_hand_off(report, triage))
