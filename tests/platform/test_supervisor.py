"""The supervisor restarts a program that dies and stops every program when asked."""

import asyncio
import os
import signal
import sys

from onestop.localinfra.supervisor import Program, supervise


async def test_a_crashed_program_is_restarted_and_all_stop_on_sigterm(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "starts"
    crashes_once = Program(
        "flaky",
        [sys.executable, "-c", f"import pathlib,sys,time; p=pathlib.Path({str(marker)!r}); "
         "n=len(p.read_text()) if p.exists() else 0; p.write_text('x'*(n+1)); "
         "sys.exit(1) if n == 0 else time.sleep(60)"],
    )  # fmt: skip
    steady = Program("steady", [sys.executable, "-c", "import time; time.sleep(60)"])
    running = asyncio.create_task(supervise([crashes_once, steady], grace_seconds=5))

    async with asyncio.timeout(30):
        while not (marker.exists() and len(marker.read_text()) == 2):
            await asyncio.sleep(0.1)
    assert crashes_once.restarts == 1
    assert steady.restarts == 0

    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, timeout=20)
    assert crashes_once.process is not None and crashes_once.process.returncode is not None
    assert steady.process is not None and steady.process.returncode is not None
