"""Public tracking shows the customer only what was written for them: a back-office progress note appears
only when marked for the customer, and staff notes, reasons and teams never do."""

from typing import Any
from uuid import UUID

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.back_office import ProgressReported
from tests.cases.conftest import RunningCases
from tests.cases.factories import routed
from tests.support import bearer, eventually, publish_events

pytestmark = pytest.mark.integration

STAFF = bearer("cases:read", "cases:write")
STREET_SYSTEM = bearer("backoffice:write", service_areas=["street_cleaning"])


async def a_tracked_case(cases: RunningCases) -> tuple[str, str]:
    decision = routed(at=cases.clock.now)
    await publish_events(
        cases.settings.kafka_bootstrap_servers,
        cases.settings.topic_namespace,
        EventEnvelope.wrap(decision, source="/test"),
    )

    async def raised() -> dict[str, Any] | None:
        found = await cases.client.get(f"/cases/{decision.case_id}", headers=STAFF)
        return found.json()["case"] if found.status_code == 200 else None

    return str(decision.case_id), (await eventually(raised))["reference"]


async def tracked(cases: RunningCases, reference: str) -> dict[str, Any]:
    response = await cases.client.get(f"/track/{reference}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_back_office_progress_shows_only_when_marked_for_the_customer(cases: RunningCases) -> None:
    case_id, reference = await a_tracked_case(cases)
    url = f"/back-office/cases/{case_id}/progress"
    unmarked = {"work_item_id": "S-1", "note": "Crew 4 short-staffed, moved to next week"}
    assert (await cases.client.post(url, json=unmarked, headers=STREET_SYSTEM)).status_code == 200
    after_unmarked = await tracked(cases, reference)
    assert after_unmarked["status"] == "in_progress" and after_unmarked["public_note"] is None

    for_the_customer = {"work_item_id": "S-1", "note": "A crew is booked for Tuesday.", "public": True}
    assert (await cases.client.post(url, json=for_the_customer, headers=STREET_SYSTEM)).status_code == 200
    assert (await tracked(cases, reference))["public_note"] == "A crew is booked for Tuesday."


async def test_progress_on_kafka_that_does_not_say_it_is_for_the_customer_stays_internal(cases: RunningCases) -> None:
    case_id, reference = await a_tracked_case(cases)
    internal = ProgressReported(
        case_id=UUID(case_id),
        system="street-lob",
        service_areas=("street_cleaning",),
        work_item_id="S-2",
        reported_at=cases.clock.now,
        note="Supervisor querying the cost",
    )
    await publish_events(
        cases.settings.kafka_bootstrap_servers,
        cases.settings.topic_namespace,
        EventEnvelope.wrap(internal, source="/council/street-lob"),
    )

    async def in_progress() -> dict[str, Any] | None:
        body = await tracked(cases, reference)
        return body if body["status"] == "in_progress" else None

    shown = await eventually(in_progress)
    assert shown["public_note"] is None
    assert "progress-updated" not in [step["step"] for step in shown["history"]], "an internal note is no step"


async def test_staff_notes_reasons_and_teams_never_reach_tracking(cases: RunningCases) -> None:
    case_id, reference = await a_tracked_case(cases)
    secrets = {
        "notes": {"text": "Resident was abusive on the phone", "internal": True},
        "assign": {"team": "enforcement-night-crew", "owner": "j.bloggs", "reason": "Suspected repeat offender"},
    }
    for path, body in secrets.items():
        assert (await cases.client.post(f"/cases/{case_id}/{path}", json=body, headers=STAFF)).status_code == 200
    shown = await tracked(cases, reference)
    assert set(shown) == {
        "reference",
        "status",
        "service_area",
        "raised_at",
        "expected_by",
        "closed_at",
        "outcome",
        "public_note",
        "history",
    }
    assert [step["step"] for step in shown["history"]] == ["raised", "handed-off"]
    page = await cases.client.get(f"/track/{reference}", headers={"Accept": "text/html"})
    for text in (str(shown), page.text):
        for secret in ("abusive", "enforcement-night-crew", "j.bloggs", "repeat offender", "street-scene"):
            assert secret not in text, secret


async def test_a_browser_gets_the_page_in_english_or_welsh(cases: RunningCases) -> None:
    case_id, reference = await a_tracked_case(cases)
    url = f"/back-office/cases/{case_id}/progress"
    news = {"work_item_id": "S-1", "note": "A crew is booked for Tuesday.", "public": True}
    assert (await cases.client.post(url, json=news, headers=STREET_SYSTEM)).status_code == 200

    english = await cases.client.get(f"/track/{reference}", headers={"Accept": "text/html"})
    assert english.status_code == 200 and english.headers["content-type"].startswith("text/html")
    assert f"Your request {reference}" in english.text and '<html lang="en">' in english.text
    for step in ("We received your request", "We passed it to the team", "The team sent news about the work"):
        assert step in english.text, step
    assert "A crew is booked for Tuesday." in english.text

    welsh = await cases.client.get(f"/track/{reference}?lang=cy", headers={"Accept": "text/html"})
    assert f"Eich cais {reference}" in welsh.text and "Cawsom eich cais" in welsh.text

    unknown = await cases.client.get("/track/OS-ZZZZ-ZZZZ?lang=cy", headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and "Gwiriwch y cyfeirnod" in unknown.text
    assert (await cases.client.get("/track/OS-ZZZZ-ZZZZ")).status_code == 404  # API clients still get JSON
