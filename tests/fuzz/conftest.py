"""The five services as processes on the real broker and database, for schemathesis to probe every operation:
a token that holds every scope, and a case, a customer and an Open311 request for the probes to act on."""

import secrets
import uuid
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from onestop.contracts.identifiers import case_id_for
from onestop.contracts.service_catalogue import service_catalogue
from onestop.localinfra.paths import repo_root
from onestop.ops.fleet import SERVICES, Fleet, environment, free_port
from onestop.servicekit.auth import AuthSettings, mint_token
from onestop.servicekit.personal_data import new_kek
from onestop.servicekit.topics_admin import delete_namespace_topics
from tests.support import eventually

# Every scope an operation can ask for (see onestop.servicekit.auth).
SCOPES = [
    "contacts:write",
    "feeds:write",
    "cases:read",
    "cases:write",
    "backoffice:write",
    "routing:admin",
    "notify:admin",
    "analytics:read",
    "customers:admin",
    "customers:assert",
]
OPEN311_KEY = "fuzz-open311-key"


@dataclass
class FuzzTarget:
    fleet: Fleet
    auth: AuthSettings
    # Path parameters the probes sometimes use instead of random ones, to get past "not found".
    known: dict[str, list[str]] = field(default_factory=dict)

    def token(self) -> str:
        """Every scope, for every service area: each operation gets past its guard to its own work."""
        areas = [area.id for area in service_catalogue().areas]
        # As long as tokens may live: a run of `make fuzz` takes a while.
        lifetime = self.auth.max_token_lifetime
        return mint_token("fuzz-client", SCOPES, service_areas=areas, ttl=lifetime, settings=self.auth)


def a_contact(n: int) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"name": f"Fuzz Resident {n}", "email": f"fuzz{n}@example.org"},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Graffiti on the bus shelter",
                "location": {"latitude": 52.2 + n * 0.01, "longitude": -0.9, "ward": "Abington"},
            }
        ],
    }


async def _seed(target: FuzzTarget) -> None:
    """A contact through the whole journey, so the probes have a case, a customer and a reference to act on."""
    headers = {"Authorization": f"Bearer {target.token()}"}
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(f"{target.fleet.url('intake')}/contacts", json=a_contact(0), headers=headers)
        answer.raise_for_status()
        receipt = answer.json()
        [need] = receipt["needs"]
        open311 = await client.post(
            f"{target.fleet.url('intake')}/open311/v2/requests.json",
            data={"api_key": OPEN311_KEY, "service_code": "584", "lat": "52.2", "long": "-0.9"},
        )
        open311.raise_for_status()

        case_id = str(case_id_for(uuid.UUID(receipt["contact_id"]), uuid.UUID(need["need_id"])))

        async def case_raised() -> bool:
            found = await client.get(f"{target.fleet.url('cases')}/cases/{case_id}", headers=headers)
            return found.status_code == 200

        try:
            await eventually(case_raised, within=90)
        except TimeoutError:  # the probes still run; those on the case stop at "not found"
            warnings.warn("the seeded contact raised no case; see the services' logs", stacklevel=1)
    target.known = {
        "case_id": [case_id],
        "reference": [need["reference"]],
        "customer_id": [receipt["customer_id"]] if receipt.get("customer_id") else [],
        "contact_id": [receipt["contact_id"]],
        "need_id": [need["need_id"]],
        "token": [open311.json()[0]["token"]],
        "format_": ["json", "xml"],
        "service_code": ["584"],
        "name": ["acknowledgement"],
        "ward": ["Abington"],
    }


@pytest.fixture(scope="session")
async def fuzz_target(kafka_bootstrap: str, postgres_url: str) -> AsyncIterator[FuzzTarget]:
    namespace = f"fuzz{uuid.uuid4().hex[:8]}."
    auth = AuthSettings(secret=secrets.token_urlsafe(32))
    env = environment(
        kafka_bootstrap,
        postgres_url,
        namespace,
        ONESTOP_AUTH_SECRET=auth.secret,
        NOTIFY_WEBHOOK_SECRET=secrets.token_urlsafe(32),
        NOTIFY_SURVEY_SECRET=secrets.token_urlsafe(32),
        PERSONAL_DATA_KEK=new_kek(),
        INTAKE_OPEN311_API_KEYS=f"{OPEN311_KEY}:fuzzer",
        # No mail server: what notify fails to send it records and retries, which the probes do not look at.
        NOTIFY_SMTP_PORT=str(free_port()),
        OTEL_TRACES_SAMPLE_RATIO="0",
        ONESTOP_TRUSTED_PROXIES="127.0.0.1",  # the probes say who they stand for (see hooks.before_call)
    )
    fleet = Fleet.prepare(namespace, env, repo_root() / ".local" / "fuzz-logs" / uuid.uuid4().hex[:8])
    target = FuzzTarget(fleet, auth)
    try:
        await fleet.start_all(SERVICES)
        await _seed(target)
        yield target
    finally:
        await fleet.stop_all()
        await fleet.drop_databases(postgres_url)
        await delete_namespace_topics(kafka_bootstrap, namespace)
