"""The desk's pages: find a customer and their single view, log a contact, work lists, the case and its
actions, tracking and traces. Server-rendered with GOV.UK Frontend; every page works without JavaScript."""

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from onestop.desk.api_client import ServiceUnavailable
from onestop.desk.web import case_page, contacts, customers, tracking, worklists
from onestop.desk.web.access import Forbidden
from onestop.desk.web.assets import PageSettings, mount_assets
from onestop.desk.web.csrf import FormNotTrusted
from onestop.desk.web.rendering import problem_page

ROUTERS = (customers.router, contacts.router, worklists.router, case_page.router, tracking.router)


def install(app: FastAPI, settings: PageSettings | None = None) -> None:
    """Add the pages, their static files and their error pages to the desk's app."""
    settings = settings or PageSettings()
    app.state.page_settings = settings
    for router in ROUTERS:
        app.include_router(router)
    mount_assets(app, settings)

    def staff_of(request: Request) -> object:
        return getattr(request.state, "staff", None)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        return problem_page(
            request,
            staff_of(request),
            403,
            "You cannot use this page",
            f"Your role does not allow you to {exc.use.value}.",
        )

    @app.exception_handler(FormNotTrusted)
    async def untrusted(request: Request, exc: FormNotTrusted) -> HTMLResponse:
        return problem_page(
            request,
            staff_of(request),
            403,
            "The form has expired",
            "Nothing was saved. Go back, refresh the page and send the form again.",
        )

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> HTMLResponse:
        return problem_page(
            request,
            staff_of(request),
            503,
            "Sorry, there is a problem with the service",
            "A service the desk relies on did not answer. Nothing was lost; try again in a few minutes.",
        )
