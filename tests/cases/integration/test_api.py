"""The cases API: commands, errors with reasons, and back-office systems limited to their areas."""

from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope
from tests.cases.conftest import RunningCases
from tests.cases.factories import routed
from tests.support import bearer, eventually, publish_events

pytestmark = pytest.mark.integration

READ, WRITE = bearer("cases:read"), bearer("cases:write", "cases:read")


async def a_case(cases: RunningCases) -> str:
    decision = routed(at=cases.clock.now)
    await publish_events(
        cases.settings.kafka_bootstrap_servers,
        cases.settings.topic_namespace,
        EventEnvelope.wrap(decision, source="/test"),
    )

    async def visible() -> bool:
        return (await cases.client.get(f"/cases/{decision.case_id}", headers=READ)).status_code == 200

    await eventually(visible)
    return str(decision.case_id)


async def test_commands_change_the_case_and_a_retried_command_applies_once(cases: RunningCases) -> None:
    case_id = await a_case(cases)
    command = {"command_id": str(uuid4()), "text": "Rang the resident back", "internal": True}
    first = await cases.client.post(f"/cases/{case_id}/notes", json=command, headers=WRITE)
    again = await cases.client.post(f"/cases/{case_id}/notes", json=command, headers=WRITE)
    assert first.status_code == 200 and len(first.json()["events"]) == 1
    assert again.status_code == 200 and again.json()["events"] == []

    resolved = await cases.client.post(f"/cases/{case_id}/resolve", json={"outcome": "Cleared"}, headers=WRITE)
    assert resolved.json()["case"]["status"] == "closed"
    history = (await cases.client.get(f"/cases/{case_id}", headers=READ)).json()["history"]
    assert [h["event_type"] for h in history][-3:] == [
        "onestop.case.note-added",
        "onestop.case.resolved",
        "onestop.case.closed",
    ]


async def test_errors_say_why(cases: RunningCases) -> None:
    case_id = await a_case(cases)
    assert (await cases.client.get(f"/cases/{case_id}")).status_code == 401
    assert (
        await cases.client.post(f"/cases/{case_id}/resolve", json={"outcome": "x"}, headers=READ)
    ).status_code == 403
    missing = await cases.client.get(f"/cases/{uuid4()}", headers=READ)
    assert missing.status_code == 404 and "no case" in missing.json()["detail"]
    invalid = await cases.client.post(f"/cases/{case_id}/decline", json={"reason": ""}, headers=WRITE)
    assert invalid.status_code == 422
    await cases.client.post(f"/cases/{case_id}/resolve", json={"outcome": "Cleared"}, headers=WRITE)
    again = await cases.client.post(f"/cases/{case_id}/resolve", json={"outcome": "Again"}, headers=WRITE)
    assert again.status_code == 409 and "closed" in again.json()["detail"]


async def test_a_back_office_system_acts_only_on_its_own_service_area(cases: RunningCases) -> None:
    case_id = await a_case(cases)  # a street_cleaning case
    housing = bearer("backoffice:write", service_areas=["housing"])
    street = bearer("backoffice:write", service_areas=["street_cleaning"])
    refused = await cases.client.post(
        f"/back-office/cases/{case_id}/accepted", json={"work_item_id": "H1"}, headers=housing
    )
    assert refused.status_code == 404, "a case of another area is not given away"
    accepted = await cases.client.post(
        f"/back-office/cases/{case_id}/accepted", json={"work_item_id": "S1"}, headers=street
    )
    assert accepted.status_code == 200 and accepted.json()["case"]["status"] == "accepted"
    done = await cases.client.post(
        f"/back-office/cases/{case_id}/completed", json={"work_item_id": "S1", "outcome": "Cleared"}, headers=street
    )
    assert done.json()["case"]["status"] == "closed"


async def test_work_lists_band_open_cases_by_age(cases: RunningCases) -> None:
    await a_case(cases)
    bands = (await cases.client.get("/worklists?service_area=street_cleaning", headers=READ)).json()["bands"]
    assert list(bands) == ["0-10 days", "11-30 days", "31-60 days", "over 60 days"]
    assert len(bands["0-10 days"]) == 1
