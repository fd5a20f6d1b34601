"""Demo traffic: the acceptance stories, then a steady stream of realistic contacts, through intake's API.

python -m onestop.ops.demo.traffic [--once] [--rate 0.5]
"""

import argparse
import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from onestop.servicekit.auth import mint_token

log = logging.getLogger("onestop.demo.traffic")

CENTRE = (52.2405, -0.8965)  # a town centre
WARDS = ["Castle", "Abington", "Spencer", "St David", "Delapre"]
FIRST = ["Jo", "Sam", "Priya", "Ade", "Kasia", "Tom", "Aisha", "Liam", "Mei", "Owen"]
LAST = ["Bloggs", "Patel", "Okafor", "Nowak", "Smith", "Khan", "Evans", "Chen", "Jones", "Murphy"]


class FreshToken(httpx.Auth):
    """A bearer token minted again when half its life is gone: tokens live an hour, and the demo for days."""

    def __init__(self, subject: str, scopes: list[str], ttl: timedelta = timedelta(hours=1)) -> None:
        self.subject, self.scopes, self.ttl = subject, scopes, ttl
        self.token, self.renew_at = "", datetime.min.replace(tzinfo=UTC)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        now = datetime.now(UTC)
        if now >= self.renew_at:
            self.token, self.renew_at = mint_token(self.subject, self.scopes, ttl=self.ttl), now + self.ttl / 2
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def person(rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "name": f"{first} {last}",
        "email": f"{first}.{last}.{rng.randrange(1000)}@example.org".lower(),
        "phone": f"07700 9{rng.randrange(10000, 99999)}",
        "assurance": "medium",
        "address": f"{rng.randrange(1, 200)} High Street, Northampton NN1 {rng.randrange(1, 9)}AB",
    }


def near(rng: random.Random, metres: float = 400) -> dict[str, Any]:
    return {
        "latitude": CENTRE[0] + rng.uniform(-metres, metres) / 111_000,
        "longitude": CENTRE[1] + rng.uniform(-metres, metres) / 68_000,
        "ward": rng.choice(WARDS),
    }


def new_resident(rng: random.Random) -> dict[str, Any]:
    return {
        "channel": "telephone",
        "taken_by": {"kind": "agent", "id": "agent-07"},
        "customer": person(rng),
        "needs": [
            {
                "kind": "payment",
                "service_code": "L-CTDD",
                "resolved_at_first_contact": True,
                "resolution": "Direct debit set up",
            },
            {"kind": "service_request", "service_code": "526", "description": "New wheelie bin for a new home"},
            {"kind": "information", "service_code": "L-BINDAYS", "resolved_at_first_contact": True},
            {"kind": "information", "service_code": "21", "description": "List of registered childminders"},
            {
                "kind": "report_problem",
                "service_code": "564",
                "description": "Street light out by the bus stop",
                "location": near(rng, 100),
            },
        ],
    }


def bereavement(rng: random.Random) -> dict[str, Any]:
    return {
        "channel": "face_to_face",
        "taken_by": {"kind": "agent", "id": "oss-desk-2"},
        "customer": person(rng),
        "needs": [
            {"kind": "service_request", "service_code": "321", "description": "Register the death of my father"},
            {"kind": "service_request", "service_code": "1619", "description": "End his council tenancy"},
            {"kind": "payment", "service_code": "L-CTARR", "description": "Council tax arrears on his account"},
            {"kind": "service_request", "service_code": "280", "description": "Return his bus pass"},
            {"kind": "service_request", "service_code": "912", "description": "House clearance"},
        ],
    }


def fly_tip_reports(rng: random.Random) -> list[dict[str, Any]]:
    spot = near(rng, 50)
    channels = ["app"] * 4 + ["web"] * 3 + ["telephone"] * 3
    return [
        {
            "channel": channel,
            "customer": person(rng),
            "needs": [
                {
                    "kind": "report_problem",
                    "service_code": "587",
                    "description": "Sofa and bags dumped by the garages",
                    "location": {**spot, "latitude": spot["latitude"] + rng.uniform(-20, 20) / 111_000},
                }
            ],
        }
        for channel in channels
    ]


def everyday(rng: random.Random) -> dict[str, Any]:
    code, kind, text = rng.choice(
        [
            ("524", "report_problem", "Bin not collected"),
            ("557", "report_problem", "Pothole outside the school"),
            ("58", "information", "Question about my bill"),
            ("141", "service_request", "Boiler not working"),
            ("584", "report_problem", "Graffiti on the underpass"),
            ("474", "application", "Resident parking permit"),
            ("412", "report_problem", "Loud music every night"),
            (None, "service_request", "The street light outside is out"),
        ]
    )
    channel = rng.choice(["web", "web", "app", "telephone", "email", "my_account", "face_to_face"])
    need: dict[str, Any] = {"kind": kind, "description": text, "location": near(rng)}
    if code:
        need["service_code"] = code
    return {"channel": channel, "customer": person(rng), "needs": [need]}


class Traffic:
    def __init__(self, intake_url: str, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        token = FreshToken("demo-channels", ["contacts:write", "feeds:write"])
        self.client = httpx.AsyncClient(base_url=intake_url, auth=token, timeout=30)

    async def contact(self, body: dict[str, Any]) -> dict[str, Any] | None:
        response = await self.client.post("/contacts", json=body, headers={"Idempotency-Key": str(uuid4())})
        if response.status_code != 201:
            log.warning("intake answered %s: %s", response.status_code, response.text[:200])
            return None
        return response.json()  # type: ignore[no-any-return]

    async def call(self) -> None:
        call_id, now = str(uuid4()), datetime.now(UTC).isoformat()
        await self.client.post(
            "/feeds/telephony", json={"event": "offered", "call_id": call_id, "queue": "main", "at": now}
        )
        wait = self.rng.choice([5, 12, 18, 25, 40, 90])
        outcome = "abandoned" if wait > 60 and self.rng.random() < 0.6 else "answered"
        await self.client.post(
            "/feeds/telephony",
            json={"event": outcome, "call_id": call_id, "queue": "main", "at": now, "wait_seconds": wait},
        )

    async def stories(self) -> None:
        """The acceptance stories in DOMAIN.md."""
        resident = await self.contact(new_resident(self.rng))
        await self.contact(bereavement(self.rng))
        for report in fly_tip_reports(self.rng):
            await self.contact(report)
        if resident:  # the chaser: a resident rings twice about the new bin
            reference = resident["needs"][1]["reference"]
            for _ in range(2):
                await self.contact(
                    {
                        "channel": "telephone",
                        "needs": [
                            {"kind": "information", "about_reference": reference, "description": "Where is my new bin?"}
                        ],
                    }
                )
        log.info("played the acceptance stories")

    async def steady(
        self, rate: float, stop: asyncio.Event, produce: Callable[[random.Random], dict[str, Any]] = everyday
    ) -> None:
        while not stop.is_set():
            await self.contact(produce(self.rng))
            if self.rng.random() < 0.5:
                await self.call()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.rng.expovariate(rate))


async def wait_for_intake(url: str, within: float = 120) -> None:
    async with httpx.AsyncClient() as client:
        async with asyncio.timeout(within):
            while True:
                try:
                    if (await client.get(f"{url}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(1)


async def run(url: str, once: bool, rate: float) -> None:
    await wait_for_intake(url)
    traffic = Traffic(url)
    await traffic.stories()
    if not once:
        await traffic.steady(rate, asyncio.Event())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m onestop.ops.demo.traffic")
    parser.add_argument("--intake", default="http://127.0.0.1:8001")
    parser.add_argument("--once", action="store_true", help="play the stories and stop")
    parser.add_argument("--rate", type=float, default=0.5, help="steady contacts per second afterwards")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(run(args.intake, args.once, args.rate))


if __name__ == "__main__":
    main()
