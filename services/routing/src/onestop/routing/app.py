"""Wiring: routing's consumers, its rules watcher and its API on the shared service runtime."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from onestop.contracts import topics
from onestop.contracts.events.cases import CaseClosed, CaseRaised, CaseReassigned, CaseReopened
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.service_catalogue import service_catalogue
from onestop.routing.adapters.repositories import RoutingRepositories
from onestop.routing.adapters.rules_file import RulesFile
from onestop.routing.adapters.views import RoutingViews
from onestop.routing.api import router as api
from onestop.routing.domain.classifier import KeywordClassifier
from onestop.routing.handlers import (
    on_case_closed,
    on_case_raised,
    on_case_reassigned,
    on_case_reopened,
    on_contact_received,
    on_customer_erased,
)
from onestop.routing.need_routing import NeedRouter
from onestop.routing.rules_publication import RulesPublication
from onestop.routing.settings import RoutingSettings
from onestop.routing.triage import Triage
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.runtime import Runtime, service_app

MIGRATIONS = MigrationSource("routing", Path(__file__).parent / "migrations")


def create_app(
    settings: RoutingSettings | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> FastAPI:
    settings = settings or RoutingSettings()
    catalogue = service_catalogue()

    async def start(runtime: Runtime, app: FastAPI) -> None:
        rules = RulesFile(settings.routing_rules_file, catalogue)
        classifier = KeywordClassifier.from_yaml(settings.routing_keywords_file.read_text())
        router = NeedRouter(catalogue, rules, classifier, settings, clock)
        units = runtime.units(RoutingRepositories.on, before_commit=RoutingRepositories.flush)
        publication = RulesPublication(rules, units, clock, settings.routing_rules_poll_seconds)
        await publication.publish_if_new()
        runtime.consume(
            [topics.CONTACTS, topics.CASES, topics.CUSTOMERS],
            {
                ContactReceived: partial(on_contact_received, router=router),
                CaseRaised: on_case_raised,
                CaseClosed: on_case_closed,
                CaseReopened: on_case_reopened,
                CaseReassigned: on_case_reassigned,
                CustomerErased: on_customer_erased,
            },
            RoutingRepositories.on,
            prepare=lambda repos, events: router.read_ahead(repos.known_cases, events),
            before_commit=RoutingRepositories.flush,
        )
        runtime.run_in_background("rules watcher", publication.watch)
        app.state.rules = rules
        app.state.rules_publication = publication
        app.state.triage = Triage(units, router)
        app.state.views = RoutingViews(runtime.pool)

    return service_app(
        settings,
        MIGRATIONS,
        start,
        title="onestop routing",
        description="Where each need goes and how: rules as data, duplicates, chasers and NI14.",
        routers=[api],
    )
