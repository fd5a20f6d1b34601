"""Rebuild routing's view from the log (`python -m onestop.routing rebuild`).

The view is `known_cases`, the cases routing can link duplicates and chases to: emptied, and the cases
and customers topics replayed through the live handlers that keep it. Contacts are not routed again (that
would decide and publish anew). Routing's own state stays: the needs waiting in `triage_queue` and the
`published_rules` versions.
"""

import asyncio

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import CaseClosed, CaseRaised, CaseReopened
from onestop.contracts.events.customers import CustomerErased
from onestop.routing.adapters.repositories import RoutingRepositories
from onestop.routing.app import MIGRATIONS
from onestop.routing.handlers import on_case_closed, on_case_raised, on_case_reopened, on_customer_erased
from onestop.routing.settings import RoutingSettings
from onestop.servicekit.database import Connection
from onestop.servicekit.event_consumer import Handler
from onestop.servicekit.replay import rebuild_views

VIEW_TABLES = ["known_cases"]
# What keeps the view; a re-route (CaseReassigned) revises an assessment, which is published, not kept.
VIEW_HANDLERS: dict[type[Event], Handler[RoutingRepositories]] = {
    CaseRaised: on_case_raised,
    CaseClosed: on_case_closed,
    CaseReopened: on_case_reopened,
    CustomerErased: on_customer_erased,
}


async def empty_views(connection: Connection) -> None:
    await connection.execute(f"TRUNCATE {', '.join(VIEW_TABLES)}")


async def rebuild(settings: RoutingSettings) -> int:
    return await rebuild_views(
        settings,
        MIGRATIONS,
        empty_views,
        [topics.CASES, topics.CUSTOMERS],
        VIEW_HANDLERS,
        RoutingRepositories.on,
        RoutingRepositories.flush,
    )


def main() -> None:
    replayed = asyncio.run(rebuild(RoutingSettings()))
    print(f"rebuilt the routing views from {replayed} events")
