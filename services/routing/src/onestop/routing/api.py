"""The routing API: the rules in force, their reload, and the triage queue."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from onestop.routing.handlers import NotInTriage, RoutingService
from onestop.servicekit.auth import Principal, require

router = APIRouter()
Admin = Annotated[Principal, Depends(require("routing:admin"))]


def routing(request: Request) -> RoutingService:
    return request.app.state.routing  # type: ignore[no-any-return]


Service = Annotated[RoutingService, Depends(routing)]


class TriageChoice(BaseModel):
    service_code: str = Field(min_length=1, max_length=32)


@router.get("/rules", summary="The routing rules in force")
async def rules(service: Service, _: Admin) -> dict[str, Any]:
    current = service.rules
    return {
        "version": current.rules.version,
        "checksum": current.checksum,
        "last_error": current.last_error,
        "rules": current.rules.model_dump(mode="json")["rules"],
    }


@router.post("/rules/reload", summary="Reload the rules file now")
async def reload(service: Service, _: Admin) -> dict[str, Any]:
    service.rules.reload_if_changed(force=True)
    if service.rules.last_error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, service.rules.last_error)
    published = await service.publish_rules_if_new()
    return {"version": service.rules.rules.version, "published": published}


@router.get("/triage", summary="Needs waiting for a person to choose their service")
async def triage_queue(service: Service, _: Admin) -> list[dict[str, Any]]:
    async with service.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT contact_id, need_id, reason, best_guess, confidence, queued_at FROM triage_queue ORDER BY queued_at"
        )
    return [dict(row) for row in rows]


@router.post("/triage/{contact_id}/{need_id}", summary="Choose the service for a need in triage")
async def choose(contact_id: UUID, need_id: UUID, body: TriageChoice, service: Service, _: Admin) -> dict[str, Any]:
    try:
        events = await service.triage(contact_id, need_id, body.service_code)
    except NotInTriage as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return {"events": [{"id": e.id, "type": e.type} for e in events]}
