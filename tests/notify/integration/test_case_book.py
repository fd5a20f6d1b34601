"""The cases notify follows, in PostgreSQL: a case raised again keeps what was kept first."""

import dataclasses
from uuid import uuid4

import pytest

from onestop.notify.domain.model import FollowedCase
from tests.notify.conftest import RunningNotify

pytestmark = pytest.mark.integration


async def test_a_case_kept_again_is_answered_with_what_was_kept_first(start_notify: object) -> None:
    notify: RunningNotify = await start_notify(run_sender=False)  # type: ignore[operator]
    first = FollowedCase(
        case_id=uuid4(),
        contact_id=uuid4(),
        reference="OS-CCCC-DDDD",
        service_code="587",
        service_area="street_cleaning",
        customer_id=None,
        customer={"name": "A Resident", "email": "resident@example.org"},
        ward="Castle",
        data_subject=uuid4(),
    )
    async with notify.app.state.units.begin() as uow:
        assert (await uow.repos.cases.record_case(first)).ward == "Castle"
    async with notify.app.state.units.begin() as uow:
        kept = await uow.repos.cases.record_case(dataclasses.replace(first, ward="Abbey"))
    assert kept.ward == "Castle" and kept.customer == first.customer
