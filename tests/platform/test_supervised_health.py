"""Background work that dies does not die in silence: /health fails while it is down, and it is restarted."""

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from onestop.servicekit.database import MigrationSource
from onestop.servicekit.runtime import Runtime, service_app
from onestop.servicekit.settings import ServiceSettings
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_a_background_task_that_dies_fails_health_until_it_is_running_again(
    service_settings: Callable[[str], ServiceSettings], tmp_path: Path
) -> None:
    settings = service_settings("probe")
    lives = 0
    running_again = asyncio.Event()

    async def fragile(stop: asyncio.Event) -> None:
        nonlocal lives
        lives += 1
        if lives == 1:
            await asyncio.sleep(0.5)
            raise RuntimeError("the follower lost its connection for good")
        running_again.set()
        await stop.wait()

    async def start(runtime: Runtime, app: object) -> None:
        runtime.run_in_background("fragile work", fragile)

    migrations = MigrationSource("probe", tmp_path)
    app = service_app(settings, migrations, start, title="probe", description="a service with fragile work")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://probe") as client,
    ):

        async def health() -> httpx.Response:
            return await client.get("/health")

        async def failing() -> httpx.Response | None:
            answer = await health()
            return answer if answer.status_code == 503 else None

        down = await eventually(failing, within=30, every=0.05)
        assert "fragile work" in down.json()["checks"]
        assert "the follower lost its connection for good" in down.json()["checks"]["fragile work"]
        await asyncio.wait_for(running_again.wait(), timeout=30)

        async def healthy() -> bool:
            return (await health()).status_code == 200

        await eventually(healthy, within=30)
    assert lives == 2
