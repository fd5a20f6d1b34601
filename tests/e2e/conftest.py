"""The whole system: the five services as separate processes on the real broker and database, with the
trace viewer and a real SMTP server, isolated in a namespace and databases of the test's own."""

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller

from onestop.localinfra.paths import repo_root
from onestop.notify.mailcatcher import Inbox
from onestop.ops.traces import MetricStore, SpanStore, create_app
from onestop.servicekit.database import drop_database
from onestop.servicekit.personal_data import new_kek

SERVICES = ("intake", "routing", "cases", "notify", "analytics")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class System:
    namespace: str
    ports: dict[str, int]
    env: dict[str, str]
    spans: SpanStore
    inbox: Inbox
    databases: dict[str, str]
    logs: Path
    metrics: MetricStore = field(default_factory=MetricStore)
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    async def start(self, service: str) -> None:
        log = (self.logs / f"{service}.log").open("ab")
        self.processes[service] = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"onestop.{service}",
            env={**self.env, "DATABASE": self.databases[service]},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        log.close()  # the child holds its own copy

    async def kill(self, service: str) -> None:
        """kill -9: no chance to finish anything."""
        process = self.processes[service]
        process.send_signal(signal.SIGKILL)
        await process.wait()

    async def healthy(self, service: str, within: float = 180) -> None:
        restarts = 0
        async with httpx.AsyncClient() as client, asyncio.timeout(within):
            while True:
                if self.processes[service].returncode is not None:
                    # As the supervisor would: a service that dies on start-up is started again.
                    restarts += 1
                    if restarts > 3:
                        tail = (self.logs / f"{service}.log").read_text(errors="replace")[-3000:]
                        raise RuntimeError(f"{service} keeps exiting ({self.processes[service].returncode}):\n{tail}")
                    await self.start(service)
                try:
                    if (await client.get(f"{self.url(service)}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)

    async def stop_all(self) -> None:
        for process in self.processes.values():
            if process.returncode is None:
                process.terminate()
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()


@pytest.fixture
async def system(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[System]:
    spans, metrics = SpanStore(), MetricStore()
    traces_port = free_port()
    viewer = uvicorn.Server(
        uvicorn.Config(create_app(spans, metrics), host="127.0.0.1", port=traces_port, log_level="warning")
    )
    viewing = asyncio.create_task(viewer.serve())
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    ports = {service: free_port() for service in SERVICES}
    env: dict[str, Any] = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_url,
        "TOPIC_NAMESPACE": namespace,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{traces_port}",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "PERSONAL_DATA_KEK": new_kek(),
        "NOTIFY_SMTP_PORT": str(smtp.port),
        "NOTIFY_ACKNOWLEDGEMENT_GROUPING_SECONDS": "1",
        "CASES_ESCALATION_INTERVAL_SECONDS": "3600",
        **{f"{service.upper()}_HTTP_PORT": str(port) for service, port in ports.items()},
    }
    tag = uuid.uuid4().hex[:8]
    logs = repo_root() / ".local" / "e2e-logs" / tag
    logs.mkdir(parents=True, exist_ok=True)
    databases = {s: f"e2e_{tag}_{s}" for s in SERVICES}
    running = System(namespace, ports, env, spans, inbox, databases, logs, metrics=metrics)
    try:
        for service in SERVICES:
            await running.start(service)
        for service in SERVICES:
            await running.healthy(service)
        yield running
    finally:
        await running.stop_all()
        smtp.stop()
        viewer.should_exit = True
        await viewing
        for database in running.databases.values():
            await drop_database(postgres_url, database)
