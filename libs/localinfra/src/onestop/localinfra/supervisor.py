"""Runs programs as separate processes: restarts one that crashes, stops all on Ctrl-C (SIGINT/SIGTERM)."""

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field

RESTART_BACKOFF_MAX = 10.0


@dataclass
class Program:
    name: str
    command: list[str]
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)


async def _pipe_output(program: Program) -> None:
    assert program.process is not None and program.process.stdout is not None
    async for line in program.process.stdout:
        sys.stdout.write(f"{program.name:>10} | {line.decode(errors='replace')}")
        sys.stdout.flush()


async def _keep_running(program: Program, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        program.process = await asyncio.create_subprocess_exec(
            *program.command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        program.started_at = time.monotonic()
        output = asyncio.create_task(_pipe_output(program))
        code = await program.process.wait()
        await output
        if stopping.is_set():
            return
        program.restarts += 1
        # A process that keeps dying right away is restarted ever more slowly.
        delay = min(RESTART_BACKOFF_MAX, 0.5 * 2 ** min(program.restarts, 5))
        if time.monotonic() - program.started_at > 60:
            delay = 0.5
        print(f"supervisor: {program.name} exited with {code}; restarting in {delay:.1f}s", flush=True)
        try:
            await asyncio.wait_for(stopping.wait(), timeout=delay)
        except TimeoutError:
            pass


async def supervise(programs: list[Program], grace_seconds: float = 15.0) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    runners = [asyncio.create_task(_keep_running(program, stopping)) for program in programs]
    await stopping.wait()
    print("supervisor: stopping every service ...", flush=True)
    for program in programs:
        if program.process and program.process.returncode is None:
            program.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*runners), timeout=grace_seconds)
    except TimeoutError:
        for program in programs:
            if program.process and program.process.returncode is None:
                program.process.kill()
        await asyncio.gather(*runners, return_exceptions=True)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
