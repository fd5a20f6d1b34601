"""Rebuild notify's views from the log (`python -m onestop.notify rebuild`).

The views are what notify learns of cases, contacts and reporters (handlers.VIEW_TABLES): emptied, and the
cases, contacts and customers topics replayed through the handlers that keep them (handlers.VIEW_HANDLERS),
which send nothing. Notify's own state stays: the notification queue (what was sent stays sent), surveys,
customers' preferences and ward subscriptions.
"""

import asyncio

from onestop.contracts import topics
from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.app import MIGRATIONS
from onestop.notify.handlers import VIEW_HANDLERS, VIEW_TABLES
from onestop.notify.settings import NotifySettings
from onestop.servicekit.database import Connection
from onestop.servicekit.replay import rebuild_views

CONSUMED = [topics.CASES, topics.CONTACTS, topics.CUSTOMERS]


async def empty_views(connection: Connection) -> None:
    await connection.execute(f"TRUNCATE {', '.join(VIEW_TABLES)}")


async def rebuild(settings: NotifySettings) -> int:
    return await rebuild_views(
        settings,
        MIGRATIONS,
        empty_views,
        CONSUMED,
        VIEW_HANDLERS,
        NotifyRepositories,
        before_commit=NotifyRepositories.flush,  # each event's held writes, as live
    )


def main() -> None:
    replayed = asyncio.run(rebuild(NotifySettings()))
    print(f"rebuilt the notify views from {replayed} events")
