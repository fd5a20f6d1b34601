"""The notify API: preferences and consent, ward subscriptions and template previews (surveys: survey_pages)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field

from onestop.contracts.events.common import ContactMethod
from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.adapters.views import NotifyViews
from onestop.notify.domain.model import Preferences as StoredPreferences
from onestop.notify.domain.model import WardSubscriber
from onestop.notify.domain.templates import VERSION, Templates
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import CleanLine, CleanText, Page
from onestop.servicekit.unit_of_work import UnitsOfWork

router = APIRouter()
Admin = Annotated[Principal, Depends(require("notify:admin"))]


async def units_of_work(request: Request) -> UnitsOfWork[NotifyRepositories]:
    return request.app.state.units  # type: ignore[no-any-return]


async def templates_in_use(request: Request) -> Templates:
    return request.app.state.templates  # type: ignore[no-any-return]


Units = Annotated[UnitsOfWork[NotifyRepositories], Depends(units_of_work)]
InUse = Annotated[Templates, Depends(templates_in_use)]


class Preferences(BaseModel):
    preferred_method: ContactMethod
    consents: list[ContactMethod] = Field(min_length=1, description="Methods the customer agreed to be contacted by")
    progress_updates: bool = True
    email: CleanLine | None = Field(default=None, max_length=320)
    phone: CleanLine | None = Field(default=None, max_length=40)
    postal_address: CleanText | None = Field(default=None, max_length=500)
    webhook_url: CleanLine | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class Subscription(BaseModel):
    subscriber_id: CleanLine = Field(min_length=1, max_length=120)
    method: ContactMethod = ContactMethod.EMAIL
    address: CleanText = Field(min_length=3, max_length=500)


@router.put("/customers/{customer_id}/preferences", summary="How a customer wants to hear from us")
async def set_preferences(customer_id: UUID, body: Preferences, units: Units, _: Admin) -> dict[str, Any]:
    if body.preferred_method not in body.consents:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the preferred method must be one the customer consented to"
        )
    preferences = StoredPreferences(
        preferred_method=body.preferred_method,
        consents=frozenset(body.consents),
        progress_updates=body.progress_updates,
        email=body.email,
        phone=body.phone,
        postal_address=body.postal_address,
        webhook_url=body.webhook_url,
    )
    async with units.begin() as uow:
        await uow.repos.audience.set_preferences(customer_id, preferences)
    return {"customer_id": customer_id, **body.model_dump(mode="json")}


@router.get("/customers/{customer_id}/notifications", summary="What a customer was sent, and their preferences")
async def customer_notifications(
    customer_id: UUID,
    request: Request,
    page: Page,
    caller: Annotated[Principal, Depends(require("cases:read"))],
) -> dict[str, Any]:
    """Newest first: channel, template, time and status, not the messages. A caller limited to service areas
    sees only the notifications about cases of those areas."""
    views = NotifyViews(request.app.state.runtime.pool)
    total, items = await views.notifications_of(
        customer_id, within_areas=caller.areas_limit, limit=page.limit, offset=page.offset
    )
    return {
        "customer_id": customer_id,
        "preferences": await views.preferences_of(customer_id),
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "items": items,
    }


@router.put("/wards/{ward}/subscribers", summary="Follow a ward: be told of requests raised and closed there")
async def subscribe_to_ward(
    ward: Annotated[str, Path(max_length=120)], body: Subscription, units: Units, _: Admin
) -> dict[str, Any]:
    async with units.begin() as uow:
        await uow.repos.audience.subscribe(ward, WardSubscriber(body.subscriber_id, body.method, body.address))
    return {"ward": ward, "subscriber_id": body.subscriber_id}


@router.get("/templates", summary="The message templates, with their version")
async def templates(in_use: InUse, _: Admin) -> dict[str, Any]:
    return {"version": VERSION, "templates": in_use.names()}


@router.post("/templates/{name}/preview", summary="Render a template with sample values")
async def preview(name: str, values: dict[str, Any], _: Admin, language: str = "en") -> dict[str, Any]:
    try:
        rendered = Templates(strict=True).render(name, values, language)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except Exception as exc:  # a value the template needs is missing
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"cannot render {name}: {exc}") from exc
    return {
        "subject": rendered.subject,
        "body": rendered.body,
        "language": rendered.language,
        "version": rendered.version,
    }
