"""The notify API: preferences and consent, ward subscriptions, template previews, and survey answers."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from onestop.contracts.events.common import ContactMethod
from onestop.notify.domain.templates import VERSION, Templates
from onestop.notify.handlers import NotifyService, SurveyNotFound
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.ratelimit import rate_limit

router = APIRouter()
Admin = Annotated[Principal, Depends(require("notify:admin"))]


def notify(request: Request) -> NotifyService:
    return request.app.state.notify  # type: ignore[no-any-return]


Service = Annotated[NotifyService, Depends(notify)]


class Preferences(BaseModel):
    preferred_method: ContactMethod
    consents: list[ContactMethod] = Field(min_length=1, description="Methods the customer agreed to be contacted by")
    progress_updates: bool = True
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    postal_address: str | None = Field(default=None, max_length=500)
    webhook_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class Subscription(BaseModel):
    subscriber_id: str = Field(min_length=1, max_length=120)
    method: ContactMethod = ContactMethod.EMAIL
    address: str = Field(min_length=3, max_length=500)


class Answer(BaseModel):
    satisfied: bool
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=5000)


@router.put("/customers/{customer_id}/preferences", summary="How a customer wants to hear from us")
async def set_preferences(customer_id: UUID, body: Preferences, service: Service, _: Admin) -> dict[str, Any]:
    if body.preferred_method not in body.consents:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the preferred method must be one the customer consented to"
        )
    async with service.pool.acquire() as connection:
        await connection.execute(
            """INSERT INTO preferences (customer_id, preferred_method, consents, progress_updates, email, phone,
                   postal_address, webhook_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (customer_id) DO UPDATE SET preferred_method = $2, consents = $3, progress_updates = $4,
                   email = $5, phone = $6, postal_address = $7, webhook_url = $8""",
            customer_id,
            body.preferred_method.value,
            [m.value for m in body.consents],
            body.progress_updates,
            body.email,
            body.phone,
            body.postal_address,
            body.webhook_url,
        )
    return {"customer_id": customer_id, **body.model_dump(mode="json")}


@router.put("/wards/{ward}/subscribers", summary="Follow a ward: be told of requests raised and closed there")
async def subscribe_to_ward(ward: str, body: Subscription, service: Service, _: Admin) -> dict[str, Any]:
    async with service.pool.acquire() as connection:
        await connection.execute(
            """INSERT INTO ward_subscriptions (ward, subscriber_id, method, address) VALUES ($1, $2, $3, $4)
               ON CONFLICT (ward, subscriber_id) DO UPDATE SET method = $3, address = $4""",
            ward,
            body.subscriber_id,
            body.method.value,
            body.address,
        )
    return {"ward": ward, "subscriber_id": body.subscriber_id}


@router.get("/templates", summary="The message templates, with their version")
async def templates(service: Service, _: Admin) -> dict[str, Any]:
    return {"version": VERSION, "templates": service.templates.names()}


@router.post("/templates/{name}/preview", summary="Render a template with sample values")
async def preview(
    name: str, values: dict[str, Any], service: Service, _: Admin, language: str = "en"
) -> dict[str, Any]:
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


@router.post(
    "/feedback/{token}",
    summary="A customer's answer to a survey (the link in the message; no login)",
    dependencies=[Depends(rate_limit(per_minute=30))],
)
async def answer_survey(token: str, body: Answer, service: Service) -> dict[str, Any]:
    try:
        answer = await service.record_answer(token, body.satisfied, body.score, body.comment)
    except SurveyNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this survey link is not valid or was already answered") from exc
    return {"survey_id": answer.survey_id, "thank_you": "Thank you for telling us."}
