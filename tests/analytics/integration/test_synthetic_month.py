"""A known synthetic month through the real broker: every measure to the exact count, replay equals live."""

import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.analytics.adapters.measures import Filter, Measures
from onestop.analytics.rebuild import rebuild_into
from onestop.contracts import topics as contract_topics
from tests.analytics.conftest import RunningAnalytics
from tests.analytics.synthetic_month import APRIL, MARCH, synthetic_month
from tests.support import bearer, publish_events, read_records

pytestmark = pytest.mark.integration

ANALYST = bearer("analytics:read")


async def test_every_measure_of_a_known_month_to_the_exact_count(analytics: RunningAnalytics) -> None:
    month = synthetic_month()
    bootstrap, ns = analytics.settings.kafka_bootstrap_servers, analytics.settings.topic_namespace
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:  # a poison message on the way: dead-lettered, and nothing else is lost
        await producer.send_and_wait(contract_topics.CONTACTS.qualified(ns), value=b"{not json", key=b"x")
    finally:
        await producer.stop()
    await publish_events(bootstrap, ns, *month.envelopes())
    await analytics.until_handled(month.events)
    response = await analytics.client.get("/measures?month=2026-03", headers=ANALYST)
    assert response.status_code == 200
    m, e = response.json()["measures"], month.expected

    ni14 = m["avoidable_contact"]
    assert (ni14["contacts"], ni14["avoidable"], ni14["percent"]) == (
        e["avoidable_contact"]["contacts"],
        e["avoidable_contact"]["avoidable"],
        e["avoidable_contact"]["percent"],
    )
    assert {k: v["avoidable"] for k, v in ni14["by"]["category"].items()} == e["avoidable_contact"]["by_category"]
    fcr = m["first_contact_resolution"]
    assert (fcr["needs"], fcr["resolved_at_first_contact"]) == tuple(e["first_contact_resolution"].values())
    mix = m["channel_mix"]
    assert (mix["contacts"], mix["by_channel"], mix["self_service"]) == tuple(e["channel_mix"].values())
    assert {k: m["telephone"][k] for k in e["telephone"]} == e["telephone"]
    assert {k: m["face_to_face"][k] for k in e["face_to_face"]} == e["face_to_face"]
    assert {k: m["written_replies"][k] for k in e["written_replies"]} == e["written_replies"]
    assert (m["sla_compliance"]["closed"], m["sla_compliance"]["within_standard"]) == tuple(
        e["sla_compliance"].values()
    )
    assert {k: m["satisfaction"][k] for k in e["satisfaction"]} == e["satisfaction"]
    assert {stage: v["started"] for stage, v in m["complaints"]["by_stage"].items()} == e["complaints"]
    assert m["complaints"]["by_stage"]["stage_1"]["on_time"] == 1
    assert m["reasons_for_contact"]["by_month"]["2026-03"] == e["reasons_for_contact"]
    assert m["duplicates_absorbed"]["reports_linked"] == e["duplicates_absorbed"]

    dead = await read_records(bootstrap, contract_topics.dead_letter_topic("analytics").qualified(ns), 1)
    assert b"missing CloudEvents headers" in dict(dead[0].headers)["dlq_reason"]

    # Replaying the whole log from offset zero into fresh tables gives the same figures.
    pool = analytics.app.state.pool
    handled = await analytics.events_handled()
    await rebuild_into(pool, analytics.settings, "facts_replayed")
    assert await analytics.events_handled() == handled, "the replay keeps its own inbox"
    period = Filter(MARCH, APRIL)
    async with pool.acquire() as connection:
        live = await Measures(connection, "facts", period).all(analytics.settings.analytics_targets)
        replayed = await Measures(connection, "facts_replayed", period).all(analytics.settings.analytics_targets)
    assert replayed == live


async def test_filters_csv_and_the_drill_down(analytics: RunningAnalytics) -> None:
    month = synthetic_month(seed=3)
    await publish_events(
        analytics.settings.kafka_bootstrap_servers, analytics.settings.topic_namespace, *month.envelopes()
    )
    await analytics.until_handled(month.events)
    waste = (
        await analytics.client.get("/measures/avoidable_contact?month=2026-03&service_area=waste", headers=ANALYST)
    ).json()
    assert set(waste["by"]["service_area"]) <= {"waste"}
    csv_text = (await analytics.client.get("/measures/telephone.csv?month=2026-03", headers=ANALYST)).text
    assert "telephone,offered,8" in csv_text
    behind = (
        await analytics.client.get("/ni14/contacts?month=2026-03&category=council_failure", headers=ANALYST)
    ).json()
    assert len(behind) == month.expected["avoidable_contact"]["by_category"].get("council_failure", 0)
    assert (await analytics.client.get("/measures?month=2026-13", headers=ANALYST)).status_code == 422
    assert (await analytics.client.get("/measures?month=2026-03")).status_code == 401
    assert (await analytics.client.get("/measures/nonsense", headers=ANALYST)).status_code == 404
    page = await analytics.client.get("/dashboard?month=2026-03")
    assert page.status_code == 200 and "Avoidable contact (NI14)" in page.text
    drill = await analytics.client.get("/dashboard/ni14?month=2026-03&category=progress_chasing")
    assert drill.status_code == 200 and "Avoidable contacts, March 2026" in drill.text
    home = await analytics.client.get("/")
    assert home.status_code == 307 and home.headers["location"] == "/dashboard"
    health = (await analytics.client.get("/health")).json()
    assert health["status"] == "ok" and "consumer lag gauge" in health["checks"]
    assert f"consumer {analytics.settings.consumer_group('analytics')}" in health["checks"]
