"""A service process freezes what its start-up made out of garbage collection; a test process does not."""

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from onestop.servicekit.database import MigrationSource
from onestop.servicekit.runtime import Runtime, service_app
from onestop.servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # this test process goes on to start other apps: their garbage must stay collectable


@pytest.mark.parametrize("as_its_own_process", [True, False])
async def test_start_up_objects_are_frozen_only_in_a_service_process(
    service_settings: Callable[[str], ServiceSettings], tmp_path: Path, unfrozen: None, as_its_own_process: bool
) -> None:
    settings = service_settings("probe")

    async def start(runtime: Runtime, app: object) -> None:
        pass

    app = service_app(settings, MigrationSource("probe", tmp_path), start, title="probe", description="a probe")
    if as_its_own_process:
        app.state.freeze_startup_objects = True  # what `serve` sets before uvicorn runs the app
    async with app.router.lifespan_context(app):
        assert (gc.get_freeze_count() > 0) is as_its_own_process
