"""A known synthetic month through the real broker: every measure to the exact count on the council's clock,
late events counted in the month they happened, replay equals live; and a month of traffic through the five
running services' public ways in, every figure on the dashboard checked against the test's own record."""

import re
from datetime import UTC, datetime
from html import escape
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]

from onestop.analytics.adapters.measures import Filter, Measures
from onestop.analytics.rebuild import rebuild_into
from onestop.analytics.web.tables import HAND_OFF_MODEL_NAMES
from onestop.analytics.web.tables import cards as cards_of
from onestop.contracts import EventEnvelope, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import CaseClosed
from onestop.contracts.topics import Topic
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from tests.analytics.conftest import RunningAnalytics
from tests.analytics.synthetic_month import APRIL, LONDON, MARCH, synthetic_month
from tests.analytics.synthetic_traffic import AREAS, Sender, SentCase, SentNeed, card_values, council_month, london
from tests.e2e.conftest import System
from tests.support import bearer, eventually, publish_events, read_records

pytestmark = pytest.mark.integration

ANALYST = bearer("analytics:read")
DESKTOP = bearer("contacts:write")
FEEDS = bearer("feeds:write")
STAFF = bearer("cases:read")


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
    # A backlog caught up after an outage: contacts dated in March reach the log in April's traffic.
    await publish_events(bootstrap, ns, *month.late_envelopes())
    await analytics.until_handled([*month.events, *month.late_events])
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
    ), "only cases that had a due time"
    assert {k: m["open_cases_by_age"][k] for k in e["open_cases_by_age"]} == e["open_cases_by_age"]
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
    period = Filter(MARCH, APRIL, zone=LONDON)
    async with pool.acquire() as connection:
        live = await Measures(connection, "facts", period).all(analytics.settings.analytics_targets)
        replayed = await Measures(connection, "facts_replayed", period).all(analytics.settings.analytics_targets)
    assert replayed == live


async def test_filters_csv_and_the_drill_down(analytics: RunningAnalytics) -> None:
    month = synthetic_month(seed=3)
    await publish_events(
        analytics.settings.kafka_bootstrap_servers,
        analytics.settings.topic_namespace,
        *month.envelopes(),
        *month.late_envelopes(),
    )
    await analytics.until_handled([*month.events, *month.late_events])
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
    assert all(row["received_at"].endswith(("+00:00", "+01:00")) for row in behind), "on the council's clock"
    for nonsense in ("2026-13", "0000-01", "9999-12"):
        refused = await analytics.client.get(f"/measures?month={nonsense}", headers=ANALYST)
        assert refused.status_code == 422, (nonsense, refused.text)
    assert (await analytics.client.get("/measures?month=2026-03")).status_code == 401
    assert (await analytics.client.get("/measures/nonsense", headers=ANALYST)).status_code == 404
    page = await analytics.client.get("/dashboard?month=2026-03")
    assert page.status_code == 200 and "Avoidable contact (NI14)" in page.text
    assert "href='/definitions#avoidable-contact-ni14'" in page.text, "each figure links to its definition"
    definitions = await analytics.client.get("/definitions")
    assert definitions.status_code == 200 and "<h2 id='avoidable-contact-ni14'>" in definitions.text
    drill = await analytics.client.get("/dashboard/ni14?month=2026-03&category=progress_chasing")
    assert drill.status_code == 200 and "Avoidable contacts, March 2026" in drill.text
    home = await analytics.client.get("/")
    assert home.status_code == 307 and home.headers["location"] == "/dashboard"
    health = (await analytics.client.get("/health")).json()
    assert health["status"] == "ok" and "consumer lag gauge" in health["checks"]
    assert f"consumer {analytics.settings.consumer_group('analytics')}" in health["checks"]


# --- a month of traffic through the five running services ---------------------------------------------------


async def _log_ends(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    """Past the last event on each partition of `topic`, as a reader of committed data sees it now."""
    reader, partitions = await open_from_beginning(bootstrap, [topic])
    ends: dict[TopicPartition, int] = {}
    try:
        async for records in batches_to_end(reader, partitions):
            for record in records:
                ends[TopicPartition(record.topic, record.partition)] = record.offset + 1
    finally:
        await reader.stop()
    return ends


async def _events_on(bootstrap: str, topic: str) -> list[EventEnvelope]:
    reader, partitions = await open_from_beginning(bootstrap, [topic])
    try:
        return [decode_record(r.value, r.headers) async for batch in batches_to_end(reader, partitions) for r in batch]
    finally:
        await reader.stop()


async def _has_read(system: System, group: str, *topics: Topic) -> None:
    """Wait until the consumer group `group` has handled every event now on `topics`."""
    bootstrap = system.env["KAFKA_BOOTSTRAP_SERVERS"]
    ends: dict[TopicPartition, int] = {}
    for topic in topics:
        ends |= await _log_ends(bootstrap, topic.qualified(system.namespace))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def caught_up() -> bool:
            committed = await admin.list_consumer_group_offsets(f"{system.namespace}onestop.{group}")
            return all(tp in committed and committed[tp].offset >= end for tp, end in ends.items())

        await eventually(caught_up, within=180)
    finally:
        await admin.close()


async def _raised(cases: httpx.AsyncClient, *sent: SentCase) -> None:
    for case in sent:

        async def known(case: SentCase = case) -> bool:
            return (await cases.get(f"/cases/{case.case_id}", headers=STAFF)).status_code == 200

        await eventually(known, within=120)


async def _closed_on_the_log(system: System, *sent: SentCase) -> None:
    topic = contract_topics.CASES.qualified(system.namespace)
    wanted = {UUID(case.case_id) for case in sent}

    async def all_there() -> bool:
        events = await _events_on(system.env["KAFKA_BOOTSTRAP_SERVERS"], topic)
        return wanted <= {e.data.case_id for e in events if isinstance(e.data, CaseClosed)}

    await eventually(all_there, within=120, every=0.5)


def _need(kind: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, **({"service_code": code} if code else {}), "description": extra.pop("text", ""), **extra}


def _case(code: str, at: datetime, **extra: Any) -> SentCase:
    return SentCase(AREAS[code], at, **extra)


async def test_a_month_of_traffic_through_the_public_ways_in_gives_every_figure_on_the_dashboard(
    system: System,
) -> None:
    """Contacts on every channel, letters dated by their Date header, contacts from before the month caught
    up, back-office reports at the times they give: every figure for September, October and November (on the
    council's clock) is what the definitions make of the traffic sent."""
    bootstrap, ns = system.env["KAFKA_BOOTSTRAP_SERVERS"], system.namespace

    async def publish(event: Event) -> None:
        await publish_events(bootstrap, ns, EventEnvelope.wrap(event, source="/lob/test"))

    async with (
        httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as intake,
        httpx.AsyncClient(base_url=system.url("cases"), timeout=30) as cases,
        httpx.AsyncClient(base_url=system.url("analytics"), timeout=30) as analytics,
    ):
        send = Sender(intake, publish, DESKTOP, FEEDS)
        fly_tip_place = {"latitude": 52.2405, "longitude": -0.9027}
        home = {"uprn": "100031234567"}

        # 1. Contacts that stand on their own.
        missed = _case("524", datetime(2026, 9, 30, 23, 30, tzinfo=UTC))  # 00:30 BST on 1 October
        await send.contact(
            "web",
            missed.raised_at,
            "ada@example.org",
            (_need("report_problem", "524"), SentNeed("524", "council_failure", missed)),
        )
        answered = _case("58", london(10, 2, 10), first_contact=True, closed_at=london(10, 2, 10))
        await send.contact(
            "telephone",
            answered.raised_at,
            "bea@example.org",
            (_need("information", "58"), SentNeed("58", None, answered)),
        )
        enquiry = _case("487", london(10, 5, 10), first_contact=True, closed_at=london(10, 5, 10))
        await send.contact(
            "telephone",
            enquiry.raised_at,
            "pat@example.org",
            (_need("information", "487"), SentNeed("487", None, enquiry)),
        )
        boiler = _case("141", london(10, 6, 11))
        await send.contact(
            "face_to_face",
            boiler.raised_at,
            "cy@example.org",
            (_need("service_request", "141", text="Boiler broken", location=home), SentNeed("141", None, boiler)),
        )
        emailed_bin = _case("524", london(10, 7, 9, 15))
        await send.message(
            emailed_bin.raised_at,
            "dee@example.org",
            "Missed bin",
            "Our bin was not collected on Tuesday.",
            SentNeed("524", "council_failure", emailed_bin),
        )
        lamp = _case("564", london(10, 8, 16))
        await send.message(
            lamp.raised_at,
            "eli@example.org",
            "Street light",
            "The street light outside number 4 is out.",
            SentNeed("564", None, lamp),
            letter=True,
        )
        fly_tip = _case("587", london(10, 10, 9))
        await send.contact(
            "app",
            fly_tip.raised_at,
            "fay@example.org",
            (
                _need("report_problem", "587", text="Sofa dumped", location=fly_tip_place),
                SentNeed("587", None, fly_tip),
            ),
        )
        new_bin = _case("526", london(10, 12, 14))
        await send.contact(
            "web",
            new_bin.raised_at,
            "gus@example.org",
            (_need("service_request", "526"), SentNeed("526", None, new_bin)),
        )
        complaint = _case("353", london(10, 13, 10), complaint="open")
        await send.contact(
            "telephone",
            complaint.raised_at,
            "hal@example.org",
            (_need("complaint", "353", text="Rude staff"), SentNeed("353", None, complaint)),
        )
        pothole = _case("557", datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 01:30 BST, the first of two
        pothole_need = SentNeed("557", "wrongly_routed", pothole)  # once the back office sends it back
        await send.contact(
            "telephone", pothole.raised_at, "ivy@example.org", (_need("report_problem", "557"), pothole_need)
        )
        last_bin = _case("524", london(10, 31, 23, 30))  # 23:30 GMT: still October
        await send.contact(
            "web",
            last_bin.raised_at,
            "jo@example.org",
            (_need("report_problem", "524"), SentNeed("524", "council_failure", last_bin)),
        )
        first_bin = _case("524", london(11, 1, 0, 30))  # 00:30 GMT: November
        await send.contact(
            "web",
            first_bin.raised_at,
            "kit@example.org",
            (_need("report_problem", "524"), SentNeed("524", "council_failure", first_bin)),
        )
        await send.message(london(10, 14, 8), "lou@example.org", "Hello", "Hello I have a question", SentNeed(None))
        unclear = _case("58", london(10, 16, 12))
        await send.contact(
            "telephone",
            unclear.raised_at,
            "max@example.org",
            (
                _need("service_request", "58", avoidable_reason="clarification"),
                SentNeed("58", "clarification", unclear),
            ),
        )
        permit = _case("474", london(10, 20, 19))
        await send.contact(
            "my_account",
            permit.raised_at,
            "ned@example.org",
            (_need("application", "474"), SentNeed("474", None, permit)),
        )
        bin_days = _case("L-BINDAYS", london(10, 22, 11), first_contact=True, closed_at=london(10, 22, 11))
        light = _case("564", london(10, 22, 11))
        await send.contact(
            "telephone",
            bin_days.raised_at,
            "oli@example.org",
            (_need("information", "L-BINDAYS"), SentNeed("L-BINDAYS", None, bin_days)),
            (
                _need("report_problem", "564", location={"latitude": 52.25, "longitude": -0.88}),
                SentNeed("564", None, light),
            ),
        )
        september = _case("587", london(9, 28, 10))
        await send.contact(
            "telephone",
            september.raised_at,
            "pia@example.org",
            (
                _need("report_problem", "587", location={"latitude": 52.26, "longitude": -0.91}),
                SentNeed("587", None, september),
            ),
        )
        august = _case("584", london(8, 20, 10))
        await send.contact(
            "web", august.raised_at, "quin@example.org", (_need("report_problem", "584"), SentNeed("584", None, august))
        )
        for offered, wait, answered_call in (
            (datetime(2026, 9, 30, 23, 50, tzinfo=UTC), 5, True),  # 00:50 BST on 1 October
            (london(10, 2, 10), 15, True),
            (london(10, 2, 10, 5), 45, False),
            (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 25, True),  # 01:30 BST
            (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), 30, True),  # 01:30 GMT, an hour later
            (datetime(2026, 11, 1, 0, 5, tzinfo=UTC), 50, False),  # 00:05 GMT on 1 November
        ):
            await send.call(offered, wait, answered_call)
        for served, wait, booked in (
            (london(10, 8, 10), 240, True),
            (london(10, 8, 11), 720, True),
            (london(10, 8, 12), 360, False),
            (datetime(2026, 9, 30, 23, 20, tzinfo=UTC), 300, True),  # 00:20 BST on 1 October
        ):
            await send.ticket(served, wait, booked)

        # 2. The back office reports, at the times the work was done.
        await _has_read(system, "routing", contract_topics.CONTACTS)
        await _raised(cases, missed, boiler, emailed_bin, complaint, pothole, permit, new_bin, fly_tip)
        await send.completed(missed, london(10, 1, 14), within=True)
        await send.completed(boiler, london(10, 9, 12), within=True)
        await send.completed(emailed_bin, london(10, 30, 10), within=False)  # due on 9 October
        await send.completed(complaint, london(10, 15, 15), within=True)  # the informal stage's deadline too
        await send.completed(permit, london(10, 21, 11), within=True)
        await send.rejected(pothole, london(10, 26, 10))

        # 3. Chasers and a duplicate of what is open.
        await send.contact(
            "telephone",
            london(10, 18, 12),
            "rae@example.org",
            (_need("information", about_reference=fly_tip.reference), SentNeed("587", "progress_chasing")),
        )
        await send.contact(
            "app",
            london(10, 19, 8),
            "sol@example.org",
            (
                _need("report_problem", "587", text="Rubbish dumped", location={**fly_tip_place, "latitude": 52.24059}),
                SentNeed("587", "duplicate_report"),
            ),
        )
        await send.contact(
            "telephone",
            london(10, 26, 9),
            "gus@example.org",
            (_need("service_request", "526", text="Where is my new bin?"), SentNeed("526", "progress_chasing")),
        )
        await send.message(
            london(10, 27, 9),
            "fay@example.org",
            f"Re: {fly_tip.reference} any news?",
            "The sofa is still there.",
            SentNeed("587", "progress_chasing"),
        )
        await _has_read(system, "routing", contract_topics.CONTACTS)
        await send.completed(new_bin, london(11, 5, 10), within=False)  # due 10 working days after 12 October

        # 4. Back again, once routing knows how the earlier cases closed.
        await _closed_on_the_log(system, answered, enquiry, boiler, emailed_bin)
        await _has_read(system, "routing", contract_topics.CASES)
        again = _case("58", london(10, 20, 9), first_contact=True, closed_at=london(10, 20, 9))
        await send.contact(
            "telephone",
            again.raised_at,
            "bea@example.org",
            (_need("information", "58"), SentNeed("58", "repeat_contact", again)),
        )
        application = _case("487", london(10, 12, 20))  # the next step of the planning applicant's journey
        await send.contact(
            "my_account",
            application.raised_at,
            "pat@example.org",
            (_need("application", "487"), SentNeed("487", None, application)),
        )
        missed_again = _case("524", london(10, 31, 10))
        await send.contact(
            "web",
            missed_again.raised_at,
            "dee@example.org",
            (_need("report_problem", "524"), SentNeed("524", "repeat_contact", missed_again)),
        )
        leak = _case("141", london(10, 15, 9))  # the same boiler, at the same home, reported as a fault
        await send.contact(
            "telephone",
            leak.raised_at,
            "cy@example.org",
            (
                _need("report_problem", "141", text="Boiler broken again", location=home),
                SentNeed("141", "repeat_contact", leak),
            ),
        )

        # 5. Every figure, once analytics has counted everything.
        record = send.record
        everything = (london(8, 1, 0), london(12, 1, 0))
        settled = record.figures(*everything)

        async def all_counted() -> dict[str, Any] | None:
            wide = (await analytics.get("/measures?start=2026-08-01&end=2026-12-01", headers=ANALYST)).json()
            m = wide["measures"]
            done = (
                m["channel_mix"]["contacts"] == settled["channel_mix"]["contacts"]
                and m["avoidable_contact"]["by"]["category"] == settled["avoidable_contact"]["by"]["category"]
                and m["avoidable_contact"]["contacts"] == settled["avoidable_contact"]["contacts"]
                and m["first_contact_resolution"] == settled["first_contact_resolution"]
                and m["sla_compliance"]["closed"] == settled["sla_compliance"]["closed"]
                and m["open_cases_by_age"]["open"] == settled["open_cases_by_age"]["open"]
                and m["telephone"]["offered"] == settled["telephone"]["offered"]
                and m["face_to_face"]["served"] == settled["face_to_face"]["served"]
            )
            return m if done else None

        try:
            await eventually(all_counted, within=240, every=1)
        except TimeoutError:
            wide = (await analytics.get("/measures?start=2026-08-01&end=2026-12-01", headers=ANALYST)).json()
            raise AssertionError(f"not everything was counted: {wide['measures']} != {settled}") from None

        for month in (9, 10, 11):
            expected = record.figures(*council_month(month))
            found = (await analytics.get(f"/measures?month=2026-{month:02d}", headers=ANALYST)).json()["measures"]
            for measure, figures in expected.items():
                shown = {key: found[measure][key] for key in figures}
                assert shown == figures, (month, measure)
            # Every case raised is measured under the hand-off model routing chose for it.
            by_model = found["hand_off_models"]["by_model"]
            fcr = expected["first_contact_resolution"]
            assert sum(v["cases"] for v in by_model.values()) == fcr["needs"], month
            resolved_at_once = sum(v["resolved_at_first_contact"] for v in by_model.values())
            assert resolved_at_once == fcr["resolved_at_first_contact"], month

        page = await analytics.get("/dashboard?month=2026-10")
        cards = dict(re.findall(r"<h2>([^<]+)</h2><div class='value'>([^<]+)</div>", page.text))
        # Every card shows the API's figure, and the test's own record where it keeps one (not reply times).
        october = (await analytics.get("/measures?month=2026-10", headers=ANALYST)).json()
        from_api = {
            card.title: "no figure" if card.value is None else f"{card.value:g}{card.unit}"
            for card in cards_of(october)
        }
        assert cards == from_api | card_values(record.figures(*council_month(10)))
        shown_models = page.text[page.text.index("<section id='hand_off_models'>") :]
        for model, figures in october["measures"]["hand_off_models"]["by_model"].items():
            assert f"<tr><td>{escape(HAND_OFF_MODEL_NAMES[model])}</td><td>{figures['cases']}</td>" in shown_models
        links = set(re.findall(r"href='/definitions#([^']+)'", page.text))
        published = (await analytics.get("/definitions")).text
        assert links and all(f"<h2 id='{anchor}'>" in published for anchor in links)
