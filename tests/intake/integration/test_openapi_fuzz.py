"""schemathesis against intake's own OpenAPI spec: whatever it sends, the service answers without a 5xx."""

import asyncio
import contextlib
import socket
import sys

import pytest
import uvicorn

from tests.intake.conftest import RunningIntake
from tests.support import bearer

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_schemathesis_finds_no_server_error(intake: RunningIntake) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(intake.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        token = bearer("contacts:write", "feeds:write", "cases:read")["Authorization"]
        fuzz = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"http://127.0.0.1:{port}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--generation-deterministic",
            "--header",
            f"Authorization: {token}",
            "--request-timeout",
            "20",
            "--no-color",
            # Raw RFC 5322 bodies are beyond what schemathesis can generate; test_mailroom_and_feeds covers them.
            "--exclude-path",
            "/mailroom/messages",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(fuzz.communicate(), timeout=240)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    report = output.decode(errors="replace")
    assert fuzz.returncode == 0, report[-4000:]
