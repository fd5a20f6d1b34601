"""Identity that does not merge strangers: households, unverified details, asserted ids and undoing a merge."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from onestop.contracts import topics as contract_topics
from onestop.contracts.events.customers import CustomerIdentified, CustomersMerged, CustomersUnmerged
from tests.intake.conftest import RunningIntake
from tests.support import bearer, read_events

pytestmark = pytest.mark.integration

DESKTOP = bearer("contacts:write")
MY_ACCOUNT = bearer("contacts:write", "customers:assert")
ADMIN = bearer("customers:admin")


def a_contact(customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": customer,
        "needs": [{"kind": "report_problem", "service_code": "587", "description": "Fly-tip"}],
    }


async def customer_of(intake: RunningIntake, customer: dict[str, Any], headers: dict[str, str] = DESKTOP) -> str:
    answer = await intake.client.post("/contacts", json=a_contact(customer), headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["customer_id"])


async def customer_events(intake: RunningIntake, count: int) -> list[Any]:
    topic = contract_topics.CUSTOMERS.qualified(intake.settings.topic_namespace)
    return [e.data for e in await read_events(intake.settings.kafka_bootstrap_servers, topic, count)]


async def test_household_members_sharing_a_uprn_and_surname_stay_separate_people(intake: RunningIntake) -> None:
    sam = await customer_of(intake, {"name": "Sam Patel", "uprn": "100031234567", "assurance": "low"})
    priya = await customer_of(intake, {"name": "Priya Patel", "uprn": "100031234567", "assurance": "low"})
    sam_again = await customer_of(intake, {"name": "Mr Sam Patel", "uprn": "100031234567"})
    assert priya != sam == sam_again


async def test_unverified_details_do_not_merge_two_records_and_verified_ones_do(intake: RunningIntake) -> None:
    jo = await customer_of(intake, {"email": "jo@example.org", "assurance": "medium"})
    other = await customer_of(intake, {"phone": "07700 900123", "assurance": "medium"})
    # Anyone could type Jo's email next to their own phone number: at level none, nothing is merged.
    claimed = await customer_of(intake, {"email": "jo@example.org", "phone": "07700 900123"})
    assert claimed == jo
    by_phone = await customer_of(intake, {"phone": "07700 900123"})
    assert by_phone == other
    verified = await customer_of(intake, {"email": "jo@example.org", "phone": "07700 900123", "assurance": "low"})
    assert verified == jo
    events = await customer_events(intake, 6)
    merges = [e for e in events if isinstance(e, CustomersMerged)]
    assert [(str(m.surviving_customer_id), str(m.merged_customer_id)) for m in merges] == [(jo, other)]


async def test_only_a_client_allowed_to_assert_identity_may_name_the_customer(intake: RunningIntake) -> None:
    someone = str(uuid4())
    refused = await intake.client.post("/contacts", json=a_contact({"customer_id": someone}), headers=DESKTOP)
    assert refused.status_code == 403 and "customers:assert" in refused.json()["detail"]
    assert await customer_of(intake, {"customer_id": someone, "assurance": "medium"}, MY_ACCOUNT) == someone


async def test_a_wrong_merge_is_undone_as_an_event(intake: RunningIntake) -> None:
    jo = await customer_of(intake, {"email": "jo@example.org", "assurance": "medium"})
    stranger = await customer_of(intake, {"phone": "07700 900123", "assurance": "medium"})
    assert await customer_of(intake, {"email": "jo@example.org", "phone": "07700 900123", "assurance": "low"}) == jo

    refused = await intake.client.post(f"/customers/{stranger}/unmerge", headers=DESKTOP)
    assert refused.status_code == 403
    undone = await intake.client.post(f"/customers/{stranger}/unmerge", headers=ADMIN)
    assert undone.status_code == 200, undone.text
    assert (undone.json()["surviving_customer_id"], undone.json()["merged_customer_id"]) == (jo, stranger)
    again = await intake.client.post(f"/customers/{stranger}/unmerge", headers=ADMIN)
    assert again.status_code == 404

    events = await customer_events(intake, 5)
    [unmerged] = [e for e in events if isinstance(e, CustomersUnmerged)]
    assert (str(unmerged.surviving_customer_id), str(unmerged.merged_customer_id)) == (jo, stranger)
    assert len([e for e in events if isinstance(e, CustomerIdentified)]) == 3
    # The stranger's record stands on its own again, and is matched as itself.
    merged_into = await intake.pool.fetchval("SELECT merged_into FROM customers WHERE customer_id = $1", UUID(stranger))
    assert merged_into is None
