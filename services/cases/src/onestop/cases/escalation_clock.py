"""The escalation clock: sweeps open cases for due escalations and overdue complaint stages every interval
until the service stops."""

import asyncio
import contextlib

from onestop.cases.commands import CaseCommands


async def run(commands: CaseCommands, interval_seconds: float, stop: asyncio.Event) -> None:
    # A failed sweep ends this run; the runtime's supervisor reports it on /health and starts it again.
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
        if stop.is_set():
            return
        await commands.sweep_escalations()
