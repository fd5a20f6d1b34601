"""The whole system: the five services as separate processes on the real broker and database, with the
trace viewer and a real mail server (Mailpit), isolated in a namespace and databases of the test's own."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn

from onestop.localinfra import mailpit
from onestop.localinfra.paths import repo_root
from onestop.ops.fleet import SERVICES, Fleet, environment, free_port
from onestop.ops.traces import MetricStore, SpanStore, create_app
from tests.support import MailServer, fleet_settings


@dataclass
class System(Fleet):
    """The running services, and what they sent out: spans, metrics and mail (as the mail server got it)."""

    spans: SpanStore = field(default_factory=SpanStore)
    metrics: MetricStore = field(default_factory=MetricStore)
    mail: MailServer = field(kw_only=True)


@pytest.fixture
async def system(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[System]:
    spans, metrics = SpanStore(), MetricStore()
    traces_port = free_port()
    viewer = uvicorn.Server(
        uvicorn.Config(create_app(spans, metrics), host="127.0.0.1", port=traces_port, log_level="warning")
    )
    viewing = asyncio.create_task(viewer.serve())
    mail_server = await asyncio.to_thread(mailpit.start)
    # Ports chosen up front, so that the links in messages can name the public addresses of the pages.
    ports = {service: free_port() for service in SERVICES}
    env = environment(
        kafka_bootstrap,
        postgres_url,
        namespace,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{traces_port}",
        OTEL_METRIC_EXPORT_INTERVAL="1000",
        # a send cut off by a kill is tried again soon
        **fleet_settings(mail_server.smtp_port, ports, NOTIFY_CLAIM_LEASE_SECONDS="5"),
    )
    fleet = Fleet.prepare(namespace, env, repo_root() / ".local" / "e2e-logs" / uuid.uuid4().hex[:8])
    mail = MailServer(mail_server.url)
    running = System(
        fleet.namespace, fleet.env, fleet.logs, fleet.databases, ports, spans=spans, metrics=metrics, mail=mail
    )
    try:
        await running.start_all()
        yield running
    finally:
        await running.stop_all()
        await asyncio.to_thread(mailpit.stop, mail_server)
        viewer.should_exit = True
        await viewing
        await running.drop_databases(postgres_url)
