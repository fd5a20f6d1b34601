"""Wiring: the cases service on the shared runtime, its consumer, escalation clock and API."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from onestop.cases import api, back_office_api, case_work_api, escalation_clock, handlers
from onestop.cases.adapters.repositories import CaseRepositories
from onestop.cases.adapters.views import CaseViews
from onestop.cases.commands import CaseCommands
from onestop.cases.domain.case import ComplaintPolicy
from onestop.cases.domain.search_terms import BlindIndex
from onestop.cases.domain.sla import OMBUDSMEN, WorkingCalendar
from onestop.cases.settings import CasesSettings
from onestop.contracts import topics
from onestop.contracts.events.back_office import HandOffAccepted, HandOffRejected, ProgressReported, WorkCompleted
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased, CustomersMerged, CustomersUnmerged
from onestop.contracts.events.routing import ContactAssessed, DuplicateReportLinked, NeedRouted
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.runtime import Runtime, service_app

MIGRATIONS = MigrationSource("cases", Path(__file__).parent / "migrations")
CONSUMED = [topics.ROUTING, topics.BACK_OFFICE, topics.CONTACTS, topics.CUSTOMERS]


def create_app(
    settings: CasesSettings | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    run_escalation_clock: bool = True,
) -> FastAPI:
    settings = settings or CasesSettings()
    calendar = WorkingCalendar.for_council(settings.council_nation, settings.closures)
    complaints = ComplaintPolicy(ombudsman=OMBUDSMEN[settings.council_nation])
    index = BlindIndex(settings.cases_search_key)
    repositories = partial(CaseRepositories, index=index)

    async def start(runtime: Runtime, app: FastAPI) -> None:
        runtime.consume(
            CONSUMED,
            {
                NeedRouted: partial(handlers.on_need_routed, calendar=calendar, complaints=complaints),
                DuplicateReportLinked: handlers.on_duplicate_report_linked,
                ContactAssessed: handlers.on_contact_assessed,
                HandOffAccepted: handlers.on_hand_off_accepted,
                ProgressReported: handlers.on_progress_reported,
                WorkCompleted: handlers.on_work_completed,
                HandOffRejected: partial(handlers.on_hand_off_rejected, triage_team=settings.cases_triage_team),
                ContactReceived: handlers.on_contact_received,
                CustomersMerged: handlers.on_customers_merged,
                CustomersUnmerged: handlers.on_customers_unmerged,
                CustomerErased: handlers.on_customer_erased,
            },
            repositories,
            before_commit=CaseRepositories.flush,
            prepare=CaseRepositories.read_ahead,
        )
        commands = CaseCommands(
            runtime.units(repositories, before_commit=CaseRepositories.flush),
            clock,
            calendar=calendar,
            complaints=complaints,
            reopen_window=timedelta(days=settings.cases_reopen_window_days),
            triage_team=settings.cases_triage_team,
        )
        app.state.commands = commands
        app.state.views = CaseViews(runtime.pool)
        app.state.search_index = index
        if run_escalation_clock:
            interval = settings.cases_escalation_interval_seconds
            runtime.run_in_background("escalation clock", partial(escalation_clock.run, commands, interval))

    return service_app(
        settings,
        MIGRATIONS,
        start,
        title="onestop cases",
        description="Every need a customer raises becomes a case, tracked from hand-off to outcome.",
        routers=[api.router, case_work_api.router, back_office_api.router],
    )
