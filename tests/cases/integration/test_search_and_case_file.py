"""Staff find a case and read it in full: contacts come in through intake's API, routing raises their cases,
and the cases service finds them by reference, name, email address, phone number, postcode, address and words
of the description, within the caller's service areas, until the customer is erased through the real erasure
path (`onestop erase-customer`). All five services run as processes on the real broker and database."""

import secrets
from typing import Any

import httpx
import pytest

from tests.cases.conftest import RunningCases
from tests.e2e.conftest import System
from tests.e2e.test_erasure import _erase as erase
from tests.support import bearer, case_of, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read", "cases:write")
WASTE_DESK = bearer("cases:read", service_areas=["waste"])


def contact(customer: dict[str, str], description: str, service_code: str, address: str) -> dict[str, Any]:
    return {
        "channel": "telephone",
        "customer": customer,
        "taken_by": {"kind": "agent", "id": "adviser-1", "name": "Sam Adviser"},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": service_code,
                "description": description,
                "location": {"address": address, "latitude": 52.24, "longitude": -0.9, "usrn": "12345678"},
            }
        ],
    }


async def found(cases: httpx.AsyncClient, q: str, headers: dict[str, str] = STAFF) -> list[str]:
    answer = await cases.get("/search", params={"q": q}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["reference"] for item in answer.json()["items"]]


async def test_staff_find_cases_by_every_kind_of_term_within_their_areas_until_erased(system: System) -> None:
    tag = secrets.token_hex(3)
    surname = f"Quill{tag}"
    resident = {
        "name": f"Hester {surname}",
        "email": f"hester.{tag}@example.org",
        "phone": f"07700 9{int(tag, 16) % 100000:05d}",
        "address": f"7 Larkspur{tag} Lane, Northampton NN3 6QD",
    }
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), headers=DESKTOP, timeout=60) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), timeout=60) as cases,
    ):
        bins = await intake.post(
            "/contacts",
            json=contact(
                resident, f"Missed bin collection, third week running {tag}", "524", f"7 Larkspur{tag} Lane, NN3 6QD"
            ),
        )
        graffiti = await intake.post(
            "/contacts",
            json=contact(
                resident, f"Graffiti sprayed on the underpass wall {tag}", "584", f"Underpass{tag}, Kettering Road"
            ),
        )
        assert bins.status_code == graffiti.status_code == 201, (bins.text, graffiti.text)
        bin_ref, graffiti_ref = (answer.json()["needs"][0]["reference"] for answer in (bins, graffiti))
        customer_id = bins.json()["customer_id"]
        bin_case = await case_of(cases, bin_ref, STAFF)
        await case_of(cases, graffiti_ref, STAFF)

        both = sorted([bin_ref, graffiti_ref])
        assert sorted(await found(cases, f"hester {surname.upper()}")) == both, "by name"
        assert sorted(await found(cases, resident["email"].upper())) == both, "by email address"
        phone = resident["phone"].replace("07700 ", "+44 7700 ")
        assert sorted(await found(cases, phone)) == both, "by phone number, written another way"
        assert bin_ref in await found(cases, "nn36qd"), "by postcode"
        assert sorted(await found(cases, f"larkspur{tag} lane")) == both, "by the customer's address"
        assert await found(cases, f"underpass{tag} kettering") == [graffiti_ref], "by the address of the problem"
        assert await found(cases, f"underpass wall {tag}") == [graffiti_ref], "by words of the description"
        assert await found(cases, bin_ref.lower()) == [bin_ref], "by reference"
        assert bin_ref in await found(cases, bin_ref[:7]), "by the beginning of a reference"
        assert await found(cases, f"{surname} underpass{tag}") == [graffiti_ref], "every word must match"

        # A waste adviser finds only the waste case, and cannot open the other.
        assert sorted(await found(cases, surname, WASTE_DESK)) == [bin_ref]
        other = (await case_of(cases, graffiti_ref, STAFF))["case_id"]
        assert (await cases.get(f"/cases/{other}/full", headers=WASTE_DESK)).status_code == 404
        assert (await cases.get(f"/cases/{other}/notes", headers=WASTE_DESK)).status_code == 404

        # The case in full, with a note read back.
        case_id = bin_case["case_id"]
        noted = await cases.post(
            f"/cases/{case_id}/notes", json={"text": f"Rang back {tag}", "internal": False}, headers=STAFF
        )
        assert noted.status_code == 200, noted.text
        full = (await cases.get(f"/cases/{case_id}/full", headers=WASTE_DESK)).json()
        assert full["description"].startswith("Missed bin collection")
        assert full["location"]["postcode"] == "NN3 6QD" and full["location"]["usrn"] == "12345678"
        assert full["customer"]["name"] == resident["name"] and full["customer"]["email"] == resident["email"]
        assert full["hand_off"]["team"] and full["hand_off"]["model"]
        assert full["sla"]["due_at"] and full["sla"]["breached"] is False
        assert any(line["text"].startswith("Handed to ") for line in full["history"]), full["history"]
        assert full["events"][0]["type"] == "onestop.case.raised"
        notes = (await cases.get(f"/cases/{case_id}/notes", headers=STAFF)).json()["notes"]
        assert [(n["text"], n["public"], n["author"]["kind"]) for n in notes] == [(f"Rang back {tag}", True, "agent")]

        await erase(system, customer_id, "--basis", "UK GDPR Art. 17 request")

        async def unfindable() -> bool:
            return not await found(cases, surname) and not await found(cases, resident["email"])

        await eventually(unfindable, within=90)
        for q in (phone, f"larkspur{tag}", f"underpass{tag}", f"underpass wall {tag}"):
            assert await found(cases, q) == [], f"an erased customer is found by {q!r}"
        assert await found(cases, bin_ref) == [bin_ref], "the case itself stays, found by its reference"
        erased = (await cases.get(f"/cases/{case_id}/full", headers=STAFF)).json()
        assert erased["description"] == "" and erased["customer"]["name"] is None
        assert erased["location"]["address"] is None and erased["customer"]["email"] is None
        assert [n["text"] for n in erased["notes"]] == [None]


async def test_bad_searches_are_refused_with_a_reason(cases: RunningCases) -> None:
    search = cases.client
    refused: list[dict[str, str | int]] = [
        {"q": "the"},
        {"q": "x" * 201},
        {"q": "bin", "page": 0},
        {"q": "bin", "page_size": 101},
    ]
    for params in refused:
        answer = await search.get("/search", params=params, headers=STAFF)
        assert answer.status_code == 422 and answer.json()["detail"], params
    assert (await search.get("/search", params={"q": "bin"})).status_code == 401
    assert (await search.get("/search", params={"q": "bin"}, headers=DESKTOP)).status_code == 403
    nothing = await search.get("/search", params={"q": "no such words"}, headers=STAFF)
    assert nothing.status_code == 200 and nothing.json()["items"] == [] and nothing.json()["total"] == 0
