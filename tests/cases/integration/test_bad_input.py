"""Bad input to the cases API is the caller's 422, with the reason, never a server error."""

import pytest

from tests.cases.conftest import RunningCases
from tests.cases.integration.test_api import a_case
from tests.support import bearer

pytestmark = pytest.mark.integration

READ, WRITE = bearer("cases:read"), bearer("cases:write", "cases:read")
STREET = bearer("backoffice:write", service_areas=["street_cleaning"])


async def test_an_expected_date_without_a_timezone_or_out_of_range_is_refused(cases: RunningCases) -> None:
    case_id = await a_case(cases)
    for expected_by, reason in (
        ("2026-04-01T12:00:00", "timezone"),
        ("9999-12-31T23:59:59-23:59", "before 2100"),
        ("1900-01-01T00:00:00Z", "from 2000"),
    ):
        answer = await cases.client.post(
            f"/back-office/cases/{case_id}/accepted",
            json={"work_item_id": "S1", "expected_by": expected_by},
            headers=STREET,
        )
        assert answer.status_code == 422, answer.text
        assert reason in answer.text
    accepted = await cases.client.post(
        f"/back-office/cases/{case_id}/accepted",
        json={"work_item_id": "S1", "expected_by": "2026-04-01T12:00:00+01:00"},
        headers=STREET,
    )
    assert accepted.status_code == 200, accepted.text


async def test_paging_beyond_its_bounds_is_refused(cases: RunningCases) -> None:
    for query in ("offset=-1", "offset=100001", f"offset={2**70}", "limit=0", "limit=501", f"limit={2**70}"):
        answer = await cases.client.get(f"/cases?{query}", headers=READ)
        assert answer.status_code == 422, (query, answer.text)
    assert (await cases.client.get("/cases?offset=100000&limit=500", headers=READ)).status_code == 200


async def test_nul_and_control_characters_are_refused_in_text_and_parameters(cases: RunningCases) -> None:
    case_id = await a_case(cases)
    note = await cases.client.post(f"/cases/{case_id}/notes", json={"text": "Rang\x00 back"}, headers=WRITE)
    assert note.status_code == 422 and "control characters" in note.text
    team = await cases.client.post(f"/cases/{case_id}/assign", json={"team": "street\nteam"}, headers=WRITE)
    assert team.status_code == 422 and "one line" in team.text
    tracked = await cases.client.get("/track/OS-%00")
    assert tracked.status_code == 422 and "control characters" in tracked.text
    listed = await cases.client.get("/cases?team=a%00b", headers=READ)
    assert listed.status_code == 422
    multi_line = await cases.client.post(
        f"/cases/{case_id}/notes", json={"text": "Rang back.\n\tNo answer."}, headers=WRITE
    )
    assert multi_line.status_code == 200, "line breaks and tabs are fine in free text"
