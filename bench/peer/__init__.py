"""The eventsourcing library as a peer for the event store, in an environment of its own."""

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from bench.event_store import envelopes
from bench.stats import Timing
from onestop.contracts import encode_envelope
from onestop.localinfra.paths import state_dir
from onestop.servicekit.database import drop_database, ensure_database

PEER = "eventsourcing[postgres]==9.5.6"
SCRIPT = Path(__file__).parent / "eventsourcing_recorder.py"


def _uv() -> list[str]:
    if subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True).returncode == 0:
        return [sys.executable, "-m", "uv"]
    found = shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


def peer_python() -> Path:
    """The peer's interpreter, in .local/bench-peer, installed from PyPI on first use."""
    environment = state_dir() / "bench-peer"
    python = environment / "bin" / "python"
    if not python.exists():
        subprocess.run([*_uv(), "venv", "--quiet", "--python", sys.executable, str(environment)], check=True)
    subprocess.run([*_uv(), "pip", "install", "--quiet", "--python", str(python), PEER], check=True)
    return python


async def run(server_url: str, appends: int, batch: int) -> dict[str, object]:
    try:
        python = await asyncio.to_thread(peer_python)
    except (OSError, subprocess.CalledProcessError) as exc:
        return {"not_measured": f"could not install {PEER}: {exc}"}
    database = f"bench_peer_{uuid.uuid4().hex[:8]}"
    await ensure_database(server_url, database)
    url = urlsplit(server_url)
    # The same bytes onestop stores for one event, so both sides write the same amount.
    payload = encode_envelope(envelopes(uuid.uuid4(), 1)[0]).value
    try:
        with tempfile.NamedTemporaryFile(suffix=".json") as file:
            file.write(payload)
            file.flush()
            done = await asyncio.to_thread(
                subprocess.run,
                [
                    str(python),
                    str(SCRIPT),
                    url.hostname or "127.0.0.1",
                    str(url.port or 5432),
                    url.username or "postgres",
                    url.password or "",
                    database,
                    str(appends),
                    str(batch),
                    file.name,
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
        if done.returncode != 0:
            return {"not_measured": f"the peer failed: {done.stderr[-1000:]}"}
        latencies = json.loads(done.stdout)["latencies_ms"]
        timing = Timing(count=appends * batch, seconds=sum(latencies) / 1000, latencies_ms=latencies)
        return {"library": PEER, "eventsourcing_postgres_recorder": timing.summary()}
    finally:
        await drop_database(server_url, database)
