"""The complaint, through the running services of a Scottish council: a letter at each stage with its
owner and deadline, escalation to stage 2, and after it the referral to the ombudsman (the SPSO)."""

from datetime import datetime
from typing import Any

import httpx
import pytest

from onestop.notify.domain.templates import day
from tests.e2e.conftest import System
from tests.support import bearer, eventually

pytestmark = pytest.mark.integration

COMPLAINANT = "complainant@example.org"


def complaint() -> dict[str, Any]:
    return {
        "channel": "telephone",
        "customer": {"name": "Morag Complainant", "email": COMPLAINANT},
        "needs": [
            {
                "kind": "complaint",
                "service_code": "353",
                "description": "The bin crew and the housing office both ignored my missed collections",
            }
        ],
    }


async def as_council_in(system: System, nation: str) -> None:
    """Cases again, set up for a council in `nation`."""
    cases = system.processes["cases"]
    cases.terminate()
    await cases.wait()
    system.env["COUNCIL_NATION"] = nation
    await system.start("cases")
    await system.healthy("cases")


async def letter(system: System, subject_has: str) -> str:
    async def arrived() -> str | None:
        for mail in await system.mail.messages(COMPLAINANT):
            if subject_has in mail.subject:
                return await system.mail.text(mail)
        return None

    return await eventually(arrived, within=120)


async def test_a_complaint_goes_through_its_stages_to_the_ombudsman(system: System) -> None:
    await as_council_in(system, "scotland")
    desk, worker = bearer("contacts:write"), bearer("cases:read", "cases:write")
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake:
        response = await intake.post("/contacts", json=complaint(), headers=desk)
        assert response.status_code == 201, response.text

    async with httpx.AsyncClient(base_url=system.url("cases"), timeout=30) as cases:

        async def the_complaint() -> dict[str, Any] | None:
            listed = (await cases.get("/cases?limit=100", headers=worker)).json()["items"]
            return next((c for c in listed if c["kind"] == "complaint" and c["complaint_stage"]), None)

        case = await eventually(the_complaint, within=120)
        case_id, reference = case["case_id"], case["reference"]
        informal = await letter(system, f"Your complaint {reference}: informal stage")
        assert "a team leader" in informal

        # It spans housing too, is about the council's contractor and came through a councillor.
        details = {
            "services_involved": ["housing"],
            "about_contractor": "Clacks Waste Services Ltd",
            "via_councillor": "Cllr A. Example",
        }
        unknown = {**details, "services_involved": ["parks-and-nowhere"]}
        refused = await cases.post(f"/cases/{case_id}/complaint/details", json=unknown, headers=worker)
        assert refused.status_code == 422 and "parks-and-nowhere" in refused.text
        recorded = await cases.post(f"/cases/{case_id}/complaint/details", json=details, headers=worker)
        assert recorded.status_code == 200, recorded.text
        too_early = await cases.post(f"/cases/{case_id}/complaint/ombudsman", json={}, headers=worker)
        assert too_early.status_code == 409 and "only after stage 2" in too_early.text

        # Stage 1: led by the corporate complaints manager, as it spans services, with its deadline.
        escalated = await cases.post(f"/cases/{case_id}/complaint/escalate", json={}, headers=worker)
        assert escalated.status_code == 200, escalated.text
        stage_1_due = datetime.fromisoformat(escalated.json()["case"]["complaint_due"])
        stage_1 = await letter(system, f"Your complaint {reference}: formal stage 1")
        assert "the corporate complaints manager" in stage_1
        assert f"reply to you by {day(stage_1_due)}" in stage_1
        assert "ombudsman" not in stage_1

        # Stage 2: a director answers; the letter says the ombudsman comes next.
        escalated = await cases.post(f"/cases/{case_id}/complaint/escalate", json={}, headers=worker)
        assert escalated.status_code == 200, escalated.text
        assert escalated.json()["case"]["complaint_stage"] == "stage_2"
        stage_2_due = datetime.fromisoformat(escalated.json()["case"]["complaint_due"])
        stage_2 = await letter(system, f"Your complaint {reference}: formal stage 2")
        assert "a director" in stage_2 and f"by {day(stage_2_due)}" in stage_2 and "ombudsman" in stage_2

        # Answered and closed; the complainant takes it to the Scottish ombudsman, recorded once.
        resolved = await cases.post(
            f"/cases/{case_id}/resolve", json={"outcome": "We apologise; collections restored."}, headers=worker
        )
        assert resolved.status_code == 200, resolved.text
        too_long = await cases.post(
            f"/cases/{case_id}/complaint/ombudsman", json={"ombudsman_reference": "x" * 61}, headers=worker
        )
        assert too_long.status_code == 422
        referred = await cases.post(
            f"/cases/{case_id}/complaint/ombudsman", json={"ombudsman_reference": "202612345"}, headers=worker
        )
        assert referred.status_code == 200, referred.text
        again = await cases.post(f"/cases/{case_id}/complaint/ombudsman", json={}, headers=worker)
        assert again.status_code == 409 and "already referred to the SPSO" in again.text

        shown = (await cases.get(f"/cases/{case_id}", headers=worker)).json()
        assert (shown["case"]["ombudsman"], shown["case"]["ombudsman_reference"]) == ("SPSO", "202612345")
        history = [step["event_type"] for step in shown["history"]]
        assert "onestop.case.complaint-referred-to-ombudsman" in history

        report = (await cases.get("/complaints/report", headers=worker)).json()
        assert report["complaints"] == 1 and report["by_stage"] == {"stage_2": 1}
        assert (report["multi_service"], report["about_contractor"], report["via_councillor"]) == (1, 1, 1)
        assert report["referred_to_ombudsman"] == {"SPSO": 1}
        # Who the contractor and councillor are is kept for the customer only, never in the report.
        assert "Clacks Waste" not in str(report) and "Clacks Waste" not in str(shown["case"])
