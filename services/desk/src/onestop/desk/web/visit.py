"""One request of a signed-in person: who they are, their calls to the services, and their pages."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from onestop.desk.api_client import ServiceAddresses, ServiceClient
from onestop.desk.app import current_staff
from onestop.desk.settings import DeskSettings
from onestop.desk.staff import Staff, service_token
from onestop.desk.web.access import Use, check
from onestop.desk.web.assets import PageSettings
from onestop.desk.web.rendering import page


@dataclass
class Visit:
    request: Request
    staff: Staff
    services: ServiceClient

    def check(self, use: Use) -> None:
        check(frozenset(self.staff.roles), use)

    def page(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return page(self.request, self.staff, template, status_code=status_code, **context)


def addresses(settings: DeskSettings, pages: PageSettings) -> ServiceAddresses:
    return ServiceAddresses(
        cases=settings.desk_cases_url,
        intake=settings.desk_intake_url,
        notify=settings.desk_notify_url,
        traces=pages.traces_url,
    )


async def visit(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Visit:
    request.state.staff = staff  # for the error pages' navigation
    settings: DeskSettings = request.app.state.settings
    token = service_token(staff, settings.desk_service_token_lifetime)
    return Visit(request, staff, ServiceClient(addresses(settings, request.app.state.page_settings), token))


Visitor = Annotated[Visit, Depends(visit)]
