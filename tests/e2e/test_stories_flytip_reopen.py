"""Two stories through the five running services, from intake's API and Open311 to what the reporters and
the back office see: ten people report one fly-tip on four channels, and a closed case is reopened."""

from typing import Any

import httpx
import pytest

from onestop.contracts.service_catalogue import service_catalogue
from tests.e2e.conftest import System
from tests.support import Mail, bearer, case_of, eventually

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
STAFF = bearer("cases:read", "cases:write")
ANALYST = bearer("analytics:read")
FLYTIPPING = "587"
LANE = (52.2405, -0.9027)  # where the mattresses were dumped
CHANNELS = ("app", "web", "telephone", "open311")


def email(n: int) -> str:
    return f"flytip.reporter{n}@example.org"


def report(channel: str, n: int) -> dict[str, Any]:
    """A report a few metres from the first, as each person stood somewhere else in the lane."""
    contact: dict[str, Any] = {
        "channel": channel,
        "customer": {"name": f"Reporter {n}", "email": email(n)},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": FLYTIPPING,
                "description": "Mattresses and a sofa dumped in the lane",
                "location": {"latitude": LANE[0] + n * 0.00002, "longitude": LANE[1]},
            }
        ],
    }
    if channel == "telephone":
        contact["taken_by"] = {"kind": "agent", "id": "agent-7"}
    return contact


def back_office() -> dict[str, str]:
    area = service_catalogue().area_of(FLYTIPPING)
    assert area is not None
    return bearer("backoffice:write", service_areas=[area.id])


def open311_key(system: System) -> str:
    return system.env["INTAKE_OPEN311_API_KEYS"].split(",")[0].split(":", 1)[0]


async def one_mail(system: System, to: str, subject_has: str) -> Mail:
    """The one message to `to` whose subject has `subject_has`, once it has arrived."""

    async def arrived() -> list[Mail] | None:
        found = [m for m in await system.mail.messages(to) if subject_has in m.subject]
        return found or None

    [mail] = await eventually(arrived, within=120)
    return mail


async def test_ten_reporters_of_one_fly_tip_make_one_case_and_each_is_told_it_is_in_hand_then_cleared(
    system: System,
) -> None:
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), timeout=30) as cases,
        httpx.AsyncClient(base_url=system.url("analytics"), timeout=30) as analytics,
    ):
        first = await intake.post("/contacts", json=report("app", 0), headers=DESKTOP)
        assert first.status_code == 201, first.text
        [need] = first.json()["needs"]
        # Intake gives the reporter a reference, not a case id: a report may join a case already in hand.
        assert set(need) == {"need_id", "reference", "service", "standard_working_days"}
        reference = need["reference"]
        case_id = (await case_of(cases, reference, STAFF))["case_id"]

        tracked_by: dict[int, str] = {}  # each later reporter's own reference, from intake's answer
        open311_tokens: dict[int, str] = {}
        for n in range(1, 10):
            channel = CHANNELS[(n - 1) % len(CHANNELS)]
            if channel == "open311":
                form = {
                    "api_key": open311_key(system),
                    "service_code": FLYTIPPING,
                    "lat": str(LANE[0] + n * 0.00002),
                    "long": str(LANE[1]),
                    "description": "Mattresses and a sofa dumped in the lane",
                    "email": email(n),
                    "first_name": "Reporter",
                    "last_name": str(n),
                }
                answer = await intake.post("/open311/v2/requests.json", data=form)
                assert answer.status_code == 201, answer.text
                open311_tokens[n] = answer.json()[0]["token"]
            else:
                answer = await intake.post("/contacts", json=report(channel, n), headers=DESKTOP)
                assert answer.status_code == 201, answer.text
                tracked_by[n] = answer.json()["needs"][0]["reference"]

        # The first reporter is acknowledged; each later one hears it is already in hand, under the case's
        # reference, whatever channel they used.
        await one_mail(system, email(0), "We have your request")
        for n in range(1, 10):
            told = await one_mail(system, email(n), "we already know about this")
            assert reference in told.subject
            assert not [m for m in await system.mail.messages(email(n)) if "We have your request" in m.subject]

        listed = (await cases.get("/cases?limit=5", headers=STAFF)).json()
        assert listed["total"] == 1, "ten reports, one case"
        assert listed["items"][0]["reporters"] == 9

        # What each later reporter was given leads to the case they were linked to, for them and for staff.
        for n, own in tracked_by.items():
            assert (await case_of(cases, own, STAFF))["case_id"] == case_id, n
            tracked = await cases.get(f"/track/{own}")
            assert tracked.status_code == 200, (n, tracked.text)
            assert tracked.json()["reference"] == reference
            # and they see the case's progress so far, as its first reporter does
            assert [step["step"] for step in tracked.json()["history"]][:1] == ["raised"], (n, tracked.text)
        for n, token in open311_tokens.items():

            async def linked(token: str = token) -> str | None:
                [row] = (await intake.get(f"/open311/v2/tokens/{token}.json")).json()
                return row.get("service_request_id")

            own = await eventually(linked, within=60)
            assert (await cases.get(f"/track/{own}")).json()["reference"] == reference, n

        # The back office clears it: all ten are told.
        work = {"work_item_id": "FT-1001"}
        accepted = await cases.post(f"/back-office/cases/{case_id}/accepted", json=work, headers=back_office())
        assert accepted.status_code == 200, accepted.text
        done = {**work, "outcome": "The lane has been cleared."}
        completed = await cases.post(f"/back-office/cases/{case_id}/completed", json=done, headers=back_office())
        assert completed.status_code == 200, completed.text
        for n in range(10):
            await one_mail(system, email(n), "is complete")

        # An Open311 client sees the linked requests closed with the case.
        for token in open311_tokens.values():
            [row] = (await intake.get(f"/open311/v2/tokens/{token}.json")).json()

            async def closed(own: str = row["service_request_id"]) -> bool:
                [request] = (await intake.get(f"/open311/v2/requests/{own}.json")).json()
                return bool(request["status"] == "closed")

            await eventually(closed, within=60)

        # The council's figures count nine reports absorbed into one case.
        async def absorbed() -> int | None:
            figures = (await analytics.get("/measures/duplicates_absorbed", headers=ANALYST)).json()
            return figures["reports_linked"] if figures["reports_linked"] >= 9 else None

        assert await eventually(absorbed, within=120) == 9


async def test_a_closed_case_reopened_goes_back_to_its_team_the_customer_is_told_and_it_is_counted(
    system: System,
) -> None:
    async with (
        httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), timeout=30) as cases,
        httpx.AsyncClient(base_url=system.url("analytics"), timeout=30) as analytics,
    ):
        answer = await intake.post("/contacts", json=report("web", 0), headers=DESKTOP)
        assert answer.status_code == 201, answer.text
        case_id = (await case_of(cases, answer.json()["needs"][0]["reference"], STAFF))["case_id"]

        early = await cases.post(f"/cases/{case_id}/reopen", json={"reason": "Still there"}, headers=STAFF)
        assert early.status_code == 409 and "not closed" in early.json()["detail"]

        work = {"work_item_id": "FT-2001"}
        await cases.post(f"/back-office/cases/{case_id}/accepted", json=work, headers=back_office())
        done = {**work, "outcome": "The lane has been cleared."}
        await cases.post(f"/back-office/cases/{case_id}/completed", json=done, headers=back_office())
        await one_mail(system, email(0), "is complete")

        reopened = await cases.post(
            f"/cases/{case_id}/reopen", json={"reason": "The sofa is still there"}, headers=STAFF
        )
        assert reopened.status_code == 200, reopened.text

        # A fresh hand-off to the owning team, which can take the work on again.
        detail = (await cases.get(f"/cases/{case_id}", headers=STAFF)).json()
        kinds = [entry["event_type"] for entry in detail["history"]]
        assert kinds.count("onestop.case.handed-off") == 2 and kinds[-2:] == [
            "onestop.case.reopened",
            "onestop.case.handed-off",
        ]
        assert detail["case"]["status"] == "handed_off"
        again = await cases.post(
            f"/back-office/cases/{case_id}/accepted", json={"work_item_id": "FT-2002"}, headers=back_office()
        )
        assert again.status_code == 200, again.text

        told = await one_mail(system, email(0), "is open again")
        assert "The sofa is still there" not in await system.mail.text(told)

        async def counted() -> dict[str, Any] | None:
            figures = (await analytics.get("/measures/reopened_cases", headers=ANALYST)).json()
            return figures if figures["reopenings"] >= 1 else None

        figures = await eventually(counted, within=120)
        assert figures["reopenings"] == 1 and figures["cases"] == 1
