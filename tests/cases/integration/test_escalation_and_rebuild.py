"""Escalation at day 30 and day 60, exactly once across restarts and rebuilds (a rebuild of every view, compared
with the live one, is tests/e2e/test_rebuild_every_view.py)."""

from datetime import timedelta
from typing import Any

import pytest

from onestop.cases.rebuild import rebuild
from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseEscalated, EscalationReason
from tests.cases.conftest import Clock, RunningCases
from tests.cases.factories import routed
from tests.support import eventually, publish_events, read_events

pytestmark = pytest.mark.integration


async def escalations(cases: RunningCases, total: int) -> list[EscalationReason]:
    topic = contract_topics.CASES.qualified(cases.settings.topic_namespace)
    events = await read_events(cases.settings.kafka_bootstrap_servers, topic, total, within=60)
    return [e.data.reason for e in events if isinstance(e.data, CaseEscalated)]


async def raised_count(cases: RunningCases) -> int | None:
    async with cases.pool.acquire() as connection:
        return await connection.fetchval("SELECT count(*) FROM case_summary") or None


async def test_escalation_fires_once_at_day_30_and_once_at_day_60_even_after_restart_and_rebuild(
    start_cases: Any,
) -> None:
    decision = routed(sla_days=200)
    clock = Clock(decision.routed_at)
    cases: RunningCases = await start_cases(clock)
    await publish_events(
        cases.settings.kafka_bootstrap_servers,
        cases.settings.topic_namespace,
        EventEnvelope.wrap(decision, source="/test"),
    )
    await eventually(lambda: raised_count(cases))

    clock.now = decision.routed_at + timedelta(days=29)
    assert await cases.commands.sweep_escalations() == 0
    clock.now = decision.routed_at + timedelta(days=30)
    assert await cases.commands.sweep_escalations() == 1
    assert await cases.commands.sweep_escalations() == 0, "day 30 fires once"

    await cases.stop()
    assert await rebuild(cases.settings) > 0
    restarted: RunningCases = await start_cases(clock)
    clock.now = decision.routed_at + timedelta(days=45)
    assert await restarted.commands.sweep_escalations() == 0, "not again after a restart and a rebuild"
    clock.now = decision.routed_at + timedelta(days=60)
    assert await restarted.commands.sweep_escalations() == 1
    assert await restarted.commands.sweep_escalations() == 0

    assert await escalations(restarted, 4) == [EscalationReason.AGED_30_DAYS, EscalationReason.AGED_60_DAYS]
