"""The notify service in-process, with a real mail server (Mailpit) and a Notify-compatible API."""

import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from onestop.localinfra import mailpit
from onestop.notify.app import create_app
from onestop.notify.settings import NotifySettings
from onestop.servicekit.database import drop_database
from tests.support import MailServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def not_starting_with(prefix: str) -> str:
    """A Go regular expression matching what does not start with `prefix` (Go's has no look-ahead):
    "ab" gives ^([^a]|a[^b])."""
    return "^(" + "|".join(f"{prefix[:i]}[^{prefix[i]}]" for i in range(len(prefix))) + ")"


@pytest.fixture
def smtp() -> Iterator[mailpit.Mailpit]:
    """Refuses mail to addresses starting with 'bounce', as a real server refuses a dead mailbox."""
    server = mailpit.start(allowed_recipients=not_starting_with("bounce"))
    yield server
    mailpit.stop(server)


@dataclass
class Clock:
    """Real time unless a test sets `now`."""

    now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


@dataclass
class RunningNotify:
    client: httpx.AsyncClient
    settings: NotifySettings
    app: Any
    mail: MailServer
    clock: Clock
    lifespan: Any
    stopped: bool = False

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.lifespan.__aexit__(None, None, None)


@pytest.fixture
async def start_notify(
    kafka_bootstrap: str, postgres_url: str, namespace: str, smtp: mailpit.Mailpit
) -> AsyncIterator[Callable[..., Any]]:
    running: list[RunningNotify] = []
    database = f"test_notify_{uuid.uuid4().hex[:10]}"

    async def start(clock: Clock | None = None, run_sender: bool = True, **overrides: Any) -> RunningNotify:
        settings = NotifySettings(
            kafka_bootstrap_servers=kafka_bootstrap,
            database_url=postgres_url,
            topic_namespace=namespace,
            database=database,
            **{
                "notify_smtp_port": smtp.smtp_port,
                "notify_acknowledgement_grouping_seconds": 0.5,
                "notify_sender_interval_seconds": 0.05,
                **overrides,
            },
        )
        clock = clock or Clock()
        app = create_app(settings, clock=clock, run_sender=run_sender)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify")
        running.append(RunningNotify(client, settings, app, MailServer(smtp.url), clock, lifespan))
        return running[-1]

    yield start
    for instance in reversed(running):
        await instance.stop()
    await drop_database(postgres_url, database)


@pytest.fixture
async def notify(start_notify: Callable[..., Any]) -> RunningNotify:
    return await start_notify()  # type: ignore[no-any-return]
