"""The routing API: the rules in force, their reload, and the triage queue."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from onestop.routing.adapters.rules_file import RulesFile
from onestop.routing.adapters.views import RoutingViews
from onestop.routing.rules_publication import RulesPublication
from onestop.routing.triage import NotInTriage, Triage, UnknownService
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import CleanLine

router = APIRouter()
Admin = Annotated[Principal, Depends(require("routing:admin"))]


async def _rules(request: Request) -> RulesFile:
    return request.app.state.rules  # type: ignore[no-any-return]


async def _rules_publication(request: Request) -> RulesPublication:
    return request.app.state.rules_publication  # type: ignore[no-any-return]


async def _triage(request: Request) -> Triage:
    return request.app.state.triage  # type: ignore[no-any-return]


async def _views(request: Request) -> RoutingViews:
    return request.app.state.views  # type: ignore[no-any-return]


Rules = Annotated[RulesFile, Depends(_rules)]
Publication = Annotated[RulesPublication, Depends(_rules_publication)]
TriageCommand = Annotated[Triage, Depends(_triage)]
Views = Annotated[RoutingViews, Depends(_views)]


class TriageChoice(BaseModel):
    service_code: CleanLine = Field(min_length=1, max_length=32)


@router.get("/rules", summary="The routing rules in force")
async def rules(current: Rules, _: Admin) -> dict[str, Any]:
    return {
        "version": current.rules.version,
        "checksum": current.checksum,
        "last_error": current.last_error,
        "rules": current.rules.model_dump(mode="json")["rules"],
    }


@router.post("/rules/reload", summary="Reload the rules file now")
async def reload(current: Rules, publication: Publication, _: Admin) -> dict[str, Any]:
    current.reload_if_changed(force=True)
    if current.last_error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, current.last_error)
    published = await publication.publish_if_new()
    return {"version": current.rules.version, "published": published}


@router.get("/triage", summary="Needs waiting for a person to choose their service")
async def triage_queue(views: Views, _: Admin) -> list[dict[str, Any]]:
    return await views.triage_queue()


@router.post("/triage/{contact_id}/{need_id}", summary="Choose the service for a need in triage")
async def choose(
    contact_id: UUID, need_id: UUID, body: TriageChoice, triage: TriageCommand, _: Admin
) -> dict[str, Any]:
    try:
        events = await triage.choose_service(contact_id, need_id, body.service_code)
    except NotInTriage as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except UnknownService as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return {"events": [{"id": e.id, "type": e.type} for e in events]}
