"""The escalation clock moves a complaint whose stage is overdue up to the next stage, once, up to stage 2."""

from datetime import timedelta
from typing import Any

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.common import NeedKind
from tests.cases.conftest import Clock, RunningCases
from tests.cases.factories import routed
from tests.support import eventually, publish_events

pytestmark = pytest.mark.integration


async def test_an_overdue_complaint_stage_is_escalated_by_the_sweep_once(start_cases: Any) -> None:
    decision = routed(kind=NeedKind.COMPLAINT, service_code="353", area="corporate", sla_days=100)
    clock = Clock(decision.routed_at)
    cases: RunningCases = await start_cases(clock)
    await publish_events(
        cases.settings.kafka_bootstrap_servers,
        cases.settings.topic_namespace,
        EventEnvelope.wrap(decision, source="/test"),
    )

    async def complaint() -> dict[str, Any] | None:
        row = await cases.pool.fetchrow(
            "SELECT complaint_stage, complaint_due, escalations FROM case_summary WHERE case_id = $1",
            decision.case_id,
        )
        return dict(row) if row is not None and row["complaint_stage"] else None

    informal = await eventually(complaint, within=60)
    assert informal["complaint_stage"] == "informal"

    clock.now = informal["complaint_due"]
    assert await cases.commands.sweep_escalations() == 0, "due is not yet overdue"
    clock.now = informal["complaint_due"] + timedelta(minutes=1)
    assert await cases.commands.sweep_escalations() == 1
    assert await cases.commands.sweep_escalations() == 0, "once per stage"
    stage_1 = await complaint()
    assert stage_1 is not None and stage_1["complaint_stage"] == "stage_1"
    assert stage_1["complaint_due"] > clock.now

    clock.now = stage_1["complaint_due"] + timedelta(minutes=1)
    assert await cases.commands.sweep_escalations() == 1
    stage_2 = await complaint()
    assert stage_2 is not None and stage_2["complaint_stage"] == "stage_2"

    clock.now = stage_2["complaint_due"] + timedelta(days=1)
    await cases.commands.sweep_escalations()  # only the age escalations are left to make
    after = await complaint()
    assert after is not None and after["complaint_stage"] == "stage_2"
    assert [label for label in after["escalations"] if label.startswith("complaint:")] == [
        "complaint:informal",
        "complaint:stage_1",
        "complaint:stage_2",
    ]
