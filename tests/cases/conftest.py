"""The cases service running in-process against the real broker and a database of the test's own."""

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from onestop.cases.app import create_app
from onestop.cases.commands import CaseCommands
from onestop.cases.settings import CasesSettings
from onestop.servicekit.database import drop_database


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RunningCases:
    client: httpx.AsyncClient
    commands: CaseCommands
    pool: asyncpg.Pool
    settings: CasesSettings
    clock: Clock
    lifespan: Any
    stopped: bool = False

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.lifespan.__aexit__(None, None, None)


@pytest.fixture
def cases_settings(kafka_bootstrap: str, postgres_url: str, namespace: str) -> CasesSettings:
    return CasesSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=postgres_url,
        database=f"test_cases_{uuid.uuid4().hex[:10]}",
        topic_namespace=namespace,
    )


@pytest.fixture
async def start_cases(cases_settings: CasesSettings, postgres_url: str) -> AsyncIterator[Callable[..., object]]:
    """Start the service (again, after a stop, to show restarts) with an injected clock."""
    running: list[RunningCases] = []

    async def start(clock: Clock | None = None) -> RunningCases:
        clock = clock or Clock(datetime.now(UTC))
        app = create_app(cases_settings, clock=clock, run_escalation_clock=False)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cases")
        running.append(
            RunningCases(client, app.state.commands, app.state.runtime.pool, cases_settings, clock, lifespan)
        )
        return running[-1]

    yield start
    for instance in reversed(running):
        await instance.stop()
    await drop_database(postgres_url, cases_settings.database_name)


@pytest.fixture
async def cases(start_cases: Callable[..., object]) -> RunningCases:
    return await start_cases()  # type: ignore[no-any-return, misc]
