"""The five services as child processes of this one, in a namespace and databases of their own.

End-to-end tests and the end-to-end benchmark both run the system this way: each service is its own
process (as in production), each instance has its own HTTP port, and instances of one service share its
database and consumer groups, so a second instance splits the work with the first.
"""

import asyncio
import ctypes
import os
import signal
import socket
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from onestop.servicekit.database import drop_database

SERVICES = ("intake", "routing", "cases", "notify", "analytics")
PR_SET_PDEATHSIG = 1  # prctl(2)
# Looked up here, in the parent: between fork and exec the child should call, not load, anything.
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the child, on Linux: be sent SIGTERM if the parent dies, so an interrupted test run or benchmark
    leaves no services behind."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(bootstrap: str, server_url: str, namespace: str, **settings: str) -> dict[str, str]:
    """This process's environment, pointed at the broker, the server and the namespace, with `settings`
    (by their environment names) on top. Every service connects to `server_url` as it is given (the fleet
    makes databases of its own), not as the role `make infra-up` made for it."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATABASE_URL": server_url,
        **{f"{service.upper()}_DATABASE_URL": server_url for service in SERVICES},
        "TOPIC_NAMESPACE": namespace,
        **settings,
    }


@dataclass
class Fleet:
    """`env` holds the shared settings (broker, server, namespace, ...); each instance adds its port."""

    namespace: str
    env: dict[str, str]
    logs: Path
    databases: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)

    @classmethod
    def prepare(cls, namespace: str, env: dict[str, str], logs: Path) -> "Fleet":
        tag = uuid.uuid4().hex[:8]
        logs.mkdir(parents=True, exist_ok=True)
        return cls(namespace, env, logs, databases={s: f"e2e_{tag}_{s}" for s in SERVICES})

    def url(self, instance: str) -> str:
        return f"http://127.0.0.1:{self.ports[instance]}"

    async def start(self, instance: str) -> None:
        """Start `instance`: a service's name, or `name#2` for its second instance."""
        service = instance.split("#")[0]
        port = self.ports.setdefault(instance, free_port())
        with (self.logs / f"{instance}.log").open("ab") as log:  # the child keeps its own copy
            self.processes[instance] = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                f"onestop.{service}",
                env={**self.env, "DATABASE": self.databases[service], f"{service.upper()}_HTTP_PORT": str(port)},
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )

    async def kill(self, instance: str) -> None:
        """kill -9: no chance to finish anything."""
        process = self.processes[instance]
        process.send_signal(signal.SIGKILL)
        await process.wait()

    async def healthy(self, instance: str, within: float = 180) -> None:
        restarts = 0
        async with httpx.AsyncClient() as client, asyncio.timeout(within):
            while True:
                if self.processes[instance].returncode is not None:
                    # As the supervisor would: a service that dies on start-up is started again.
                    restarts += 1
                    if restarts > 3:
                        tail = (self.logs / f"{instance}.log").read_text(errors="replace")[-3000:]
                        code = self.processes[instance].returncode
                        raise RuntimeError(f"{instance} keeps exiting ({code}):\n{tail}")
                    await self.start(instance)
                try:
                    if (await client.get(f"{self.url(instance)}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)

    async def start_all(self, instances: tuple[str, ...] = SERVICES) -> None:
        for instance in instances:
            await self.start(instance)
        for instance in instances:
            await self.healthy(instance)

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

    async def drop_databases(self, server_url: str) -> None:
        for database in self.databases.values():
            await drop_database(server_url, database)
