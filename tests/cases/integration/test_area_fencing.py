"""Service areas fence every way in: a caller limited to areas reads, lists, works and acts on the cases of
those areas only (another area's case answers 404, as if it did not exist), and a back-office report on Kafka
about a case outside its system's areas is dead-lettered with the reason."""

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.back_office import HandOffAccepted
from onestop.contracts.events.common import Channel, CustomerDetails, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import NeedRouted
from onestop.servicekit.auth import mint_token
from tests.cases.conftest import RunningCases
from tests.cases.factories import routed
from tests.support import bearer, eventually, publish_events, read_records

pytestmark = pytest.mark.integration

STAFF = bearer("cases:read", "cases:write")
HOUSING_SYSTEM = bearer("backoffice:write", "cases:read", "cases:write", service_areas=["housing"])


def housing_agent() -> dict[str, str]:
    token = mint_token("housing-officer", ["cases:read", "cases:write"], service_areas=["housing"], kind="agent")
    return {"Authorization": f"Bearer {token}"}


async def raise_cases(cases: RunningCases, *decisions: NeedRouted) -> None:
    await publish_events(
        cases.settings.kafka_bootstrap_servers,
        cases.settings.topic_namespace,
        *[EventEnvelope.wrap(decision, source="/test") for decision in decisions],
    )

    async def all_visible() -> bool:
        for decision in decisions:
            if (await cases.client.get(f"/cases/{decision.case_id}", headers=STAFF)).status_code != 200:
                return False
        return True

    await eventually(all_visible)


def a_street_cleaning_case(cases: RunningCases, days_ago: int = 1, customer_id: UUID | None = None) -> NeedRouted:
    return routed(at=cases.clock.now - timedelta(days=days_ago), customer_id=customer_id)


def a_housing_case(cases: RunningCases, days_ago: int = 0, customer_id: UUID | None = None) -> NeedRouted:
    return routed(
        area="housing",
        service_code="HOUSING-REPAIR",
        at=cases.clock.now - timedelta(days=days_ago),
        customer_id=customer_id,
    )


async def history_length(cases: RunningCases, case_id: UUID) -> int:
    return len((await cases.client.get(f"/cases/{case_id}", headers=STAFF)).json()["history"])


def worklist_case_ids(body: dict[str, Any]) -> set[str]:
    return {case["case_id"] for band in body["bands"].values() for case in band}


@pytest.mark.parametrize("caller", [HOUSING_SYSTEM, housing_agent()], ids=["back-office system", "staff with areas"])
async def test_a_caller_for_one_area_can_neither_see_nor_touch_a_case_of_another(
    cases: RunningCases, caller: dict[str, str]
) -> None:
    other, own = a_street_cleaning_case(cases), a_housing_case(cases)
    await raise_cases(cases, other, own)
    before = await history_length(cases, other.case_id)

    read = await cases.client.get(f"/cases/{other.case_id}", headers=caller)
    assert read.status_code == 404 and read.json()["detail"] == f"no case {other.case_id}"
    assert (await cases.client.get(f"/cases/{own.case_id}", headers=caller)).status_code == 200

    # The other area's case is the oldest: filtered after paging, the first page would come back empty.
    listed = (await cases.client.get("/cases?limit=1", headers=caller)).json()
    assert listed["total"] == 1 and [item["case_id"] for item in listed["items"]] == [str(own.case_id)]
    asked_for_other = (await cases.client.get("/cases?service_area=street_cleaning", headers=caller)).json()
    assert asked_for_other["total"] == 0 and asked_for_other["items"] == []

    assert worklist_case_ids((await cases.client.get("/worklists", headers=caller)).json()) == {str(own.case_id)}
    other_worklist = await cases.client.get("/worklists?service_area=street_cleaning", headers=caller)
    assert worklist_case_ids(other_worklist.json()) == set()

    attempts = {
        "note": ("/notes", {"text": "Looked at it"}),
        "resolve": ("/resolve", {"outcome": "Cleared"}),
        "decline": ("/decline", {"reason": "Not ours"}),
        "assign": ("/assign", {"team": "housing-repairs"}),
        "close": ("/close", {}),
    }
    for name, (path, body) in attempts.items():
        refused = await cases.client.post(f"/cases/{other.case_id}{path}", json=body, headers=caller)
        assert refused.status_code == 404, name
    assert await history_length(cases, other.case_id) == before, "nothing was applied to the other area's case"


async def test_a_back_office_system_cannot_report_on_a_case_of_another_area(cases: RunningCases) -> None:
    other, own = a_street_cleaning_case(cases), a_housing_case(cases)
    await raise_cases(cases, other, own)
    before = await history_length(cases, other.case_id)

    reports = {
        "accepted": {"work_item_id": "H-1"},
        "progress": {"work_item_id": "H-1", "note": "Booked", "public": True},
        "completed": {"work_item_id": "H-1", "outcome": "Done"},
        "rejected": {"reason": "Not ours"},
    }
    for name, body in reports.items():
        refused = await cases.client.post(
            f"/back-office/cases/{other.case_id}/{name}", json=body, headers=HOUSING_SYSTEM
        )
        assert refused.status_code == 404 and refused.json()["detail"] == f"no case {other.case_id}", name
    assert await history_length(cases, other.case_id) == before

    accepted = await cases.client.post(
        f"/back-office/cases/{own.case_id}/accepted", json={"work_item_id": "H-2"}, headers=HOUSING_SYSTEM
    )
    assert accepted.status_code == 200 and accepted.json()["case"]["status"] == "accepted"


async def test_a_back_office_token_that_names_no_area_reaches_no_case(cases: RunningCases) -> None:
    case = a_street_cleaning_case(cases)
    await raise_cases(cases, case)
    unfenced_system = bearer("backoffice:write", "cases:read")
    # Refused at the door (403) or shown nothing (404): either way the case stays out of reach.
    assert (await cases.client.get(f"/cases/{case.case_id}", headers=unfenced_system)).status_code in (403, 404)
    listed = await cases.client.get("/cases", headers=unfenced_system)
    assert listed.status_code == 403 or listed.json()["total"] == 0
    accept = await cases.client.post(
        f"/back-office/cases/{case.case_id}/accepted", json={"work_item_id": "X-1"}, headers=unfenced_system
    )
    assert accept.status_code in (403, 404)


async def test_staff_without_areas_work_across_every_service(cases: RunningCases) -> None:
    street, housing = a_street_cleaning_case(cases), a_housing_case(cases)
    await raise_cases(cases, street, housing)
    listed = (await cases.client.get("/cases", headers=STAFF)).json()
    assert {item["case_id"] for item in listed["items"]} == {str(street.case_id), str(housing.case_id)}
    noted = await cases.client.post(f"/cases/{street.case_id}/notes", json={"text": "Rang back"}, headers=STAFF)
    assert noted.status_code == 200


async def test_the_customer_view_shows_a_fenced_caller_only_its_areas(cases: RunningCases) -> None:
    customer_id = uuid4()
    street = a_street_cleaning_case(cases, customer_id=customer_id)
    housing = a_housing_case(cases, customer_id=customer_id)
    contacts = [
        ContactReceived(
            contact_id=decision.contact_id,
            channel=Channel.WEB,
            received_at=decision.received_at,
            customer=CustomerDetails(customer_id=customer_id, name="A Resident"),
            needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="587", description="A need"),),
        )
        for decision in (street, housing)
    ]
    await publish_events(
        cases.settings.kafka_bootstrap_servers,
        cases.settings.topic_namespace,
        *[EventEnvelope.wrap(contact, source="/test") for contact in contacts],
    )
    await raise_cases(cases, street, housing)

    async def whole_view() -> dict[str, Any] | None:
        view = await cases.client.get(f"/customers/{customer_id}", headers=STAFF)
        body: dict[str, Any] = view.json()
        return body if view.status_code == 200 and len(body["contacts"]) == 2 else None

    assert len((await eventually(whole_view))["cases"]) == 2
    fenced = (await cases.client.get(f"/customers/{customer_id}", headers=housing_agent())).json()
    assert [case["case_id"] for case in fenced["cases"]] == [str(housing.case_id)]
    assert [contact["contact_id"] for contact in fenced["contacts"]] == [str(housing.contact_id)]

    only_street = uuid4()
    await raise_cases(cases, a_street_cleaning_case(cases, customer_id=only_street))
    assert (await cases.client.get(f"/customers/{only_street}", headers=housing_agent())).status_code == 404


async def test_a_sweep_by_a_fenced_caller_escalates_only_its_areas(cases: RunningCases) -> None:
    street, housing = a_street_cleaning_case(cases, days_ago=31), a_housing_case(cases, days_ago=31)
    await raise_cases(cases, street, housing)
    swept = await cases.client.post("/admin/escalations/sweep", headers=housing_agent())
    assert swept.status_code == 200 and swept.json()["escalated"] >= 1
    street_view = (await cases.client.get(f"/cases/{street.case_id}", headers=STAFF)).json()["case"]
    housing_view = (await cases.client.get(f"/cases/{housing.case_id}", headers=STAFF)).json()["case"]
    assert street_view["escalations"] == [] and "aged_30_days" in housing_view["escalations"]


async def test_a_kafka_report_from_a_system_for_another_area_is_dead_lettered(cases: RunningCases) -> None:
    case = a_street_cleaning_case(cases)
    await raise_cases(cases, case)
    bootstrap, namespace = cases.settings.kafka_bootstrap_servers, cases.settings.topic_namespace

    def acceptance(system: str, areas: tuple[str, ...], work_item: str) -> EventEnvelope:
        report = HandOffAccepted(
            case_id=case.case_id,
            system=system,
            service_areas=areas,
            work_item_id=work_item,
            accepted_at=cases.clock.now,
        )
        return EventEnvelope.wrap(report, source=f"/council/{system}")

    await publish_events(
        bootstrap,
        namespace,
        acceptance("housing-lob", ("housing",), "H-1"),
        acceptance("street-lob", ("street_cleaning",), "S-1"),
    )

    async def accepted() -> dict[str, Any] | None:
        body = (await cases.client.get(f"/cases/{case.case_id}", headers=STAFF)).json()
        return body if body["case"]["status"] == "accepted" else None

    history = (await eventually(accepted))["history"]
    assert [h["event_type"] for h in history].count("onestop.case.accepted") == 1, "the next report was processed"
    dlq = contract_topics.dead_letter_topic("cases").qualified(namespace)
    [dead] = await read_records(bootstrap, dlq, 1)
    headers = dict(dead.headers)
    assert dead.key == str(case.case_id).encode()
    reason = headers["dlq_reason"].decode()
    assert "housing-lob serves housing, not street_cleaning" in reason, reason
    assert headers["dlq_original_topic"] == contract_topics.BACK_OFFICE.qualified(namespace).encode()
