"""Rebuild intake's view from the log (`python -m onestop.intake rebuild`).

Intake's tables are nearly all its own state: the customers it identifies, Idempotency-Key answers,
attachments, and the Open311 requests as they came in. The views, learned from the cases topic, are each
Open311 request's progress (service_request_id, status, status_notes, agency, expected_at, updated_at, the
case it was linked to) and the requests listed for cases raised through other channels (their token is
their case id): progress is put back as it was when the request came in, the listed ones go, and the cases
and customers topics are replayed through the live handlers.
"""

import asyncio

from onestop.contracts import topics
from onestop.intake.adapters.repositories import CaseProgressRepositories
from onestop.intake.app import MIGRATIONS
from onestop.intake.consumers import HANDLERS
from onestop.intake.settings import IntakeSettings
from onestop.servicekit.database import Connection
from onestop.servicekit.replay import rebuild_views

CONSUMED = [topics.CASES, topics.CUSTOMERS]


async def reset_progress(connection: Connection) -> None:
    await connection.execute("DELETE FROM attachment_areas")
    await connection.execute("DELETE FROM open311_requests WHERE token = case_id")
    await connection.execute(
        """UPDATE open311_requests SET service_request_id = NULL, status = 'open', status_notes = NULL,
               agency = NULL, expected_at = NULL, linked_case_id = NULL, updated_at = requested_at"""
    )


async def rebuild(settings: IntakeSettings) -> int:
    return await rebuild_views(
        settings,
        MIGRATIONS,
        reset_progress,
        CONSUMED,
        HANDLERS,
        CaseProgressRepositories,
        before_commit=CaseProgressRepositories.flush,
    )


def main() -> None:
    replayed = asyncio.run(rebuild(IntakeSettings()))
    print(f"rebuilt the intake views from {replayed} events")
