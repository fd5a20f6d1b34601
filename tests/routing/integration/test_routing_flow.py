"""Routing on the real broker: the fly-tip and chaser stories, rules reloaded live, and triage."""

import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseRaised, CaseReassigned
from onestop.contracts.events.common import Channel, CustomerDetails, Location, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import (
    AvoidableCategory,
    ContactAssessed,
    DuplicateReportLinked,
    NeedRouted,
    NeedSentToTriage,
    RoutingRulesPublished,
)
from onestop.contracts.identifiers import case_reference_for
from onestop.routing.settings import PACKAGED
from tests.routing.conftest import RunningRouting
from tests.support import bearer, eventually, publish_events, read_events

pytestmark = pytest.mark.integration

ADMIN = bearer("routing:admin")
ALLEY = (52.2405, -0.9027)


def a_contact(channel: Channel, need: Need, customer_id: Any = None) -> EventEnvelope:
    contact = ContactReceived(
        contact_id=uuid4(),
        channel=channel,
        received_at=datetime.now(UTC),
        needs=(need,),
        customer=CustomerDetails(customer_id=customer_id or uuid4()),
    )
    return EventEnvelope.wrap(contact, source="/onestop/intake")


def fly_tip(offset_metres: float) -> Need:
    return Need(
        need_id=uuid4(),
        kind=NeedKind.REPORT_PROBLEM,
        service_code="587",
        description="Fly-tip in the alley",
        location=Location(latitude=ALLEY[0] + offset_metres / 111_000, longitude=ALLEY[1]),
    )


async def routing_events(routing: RunningRouting, count: int) -> list[EventEnvelope]:
    topic = contract_topics.ROUTING.qualified(routing.settings.topic_namespace)
    return await read_events(routing.settings.kafka_bootstrap_servers, topic, count, within=60)


async def test_the_fly_tip_ten_reports_one_case(routing: RunningRouting) -> None:
    channels = [Channel.APP] * 4 + [Channel.WEB] * 3 + [Channel.TELEPHONE] * 3
    reports = [a_contact(channel, fly_tip(offset_metres=5 * n)) for n, channel in enumerate(channels)]
    await publish_events(routing.settings.kafka_bootstrap_servers, routing.settings.topic_namespace, *reports)

    events = [e.data for e in await routing_events(routing, 20)]
    routed = [e for e in events if isinstance(e, NeedRouted)]
    linked = [e for e in events if isinstance(e, DuplicateReportLinked)]
    assessed = [e for e in events if isinstance(e, ContactAssessed)]
    assert len(routed) == 1 and len(linked) == 9 and len(assessed) == 10
    assert {link.case_id for link in linked} == {routed[0].case_id}
    assert routed[0].rule_id == "street-cleaning/fly-tip"
    assert sum(a.category is AvoidableCategory.DUPLICATE_REPORT for a in assessed) == 9


async def test_a_report_is_linked_only_to_a_case_at_its_own_place(routing: RunningRouting) -> None:
    """East and west of the alley as well as north and south, and by UPRN wherever the pin fell."""
    metres_east = 1 / (111_000 * math.cos(math.radians(ALLEY[0])))

    def at(east: float, uprn: str | None = None) -> Need:
        place = Location(latitude=ALLEY[0], longitude=ALLEY[1] + east * metres_east, uprn=uprn)
        return fly_tip(0).model_copy(update={"location": place})

    first, far, near_far, same_uprn = at(0, uprn="100031234567"), at(300), at(340), at(2_000, uprn="100031234567")
    # One at a time (contacts land on different partitions): each decision is made before the next report.
    for sent, need in enumerate((first, far, near_far, same_uprn), start=1):
        await publish_events(
            routing.settings.kafka_bootstrap_servers, routing.settings.topic_namespace, a_contact(Channel.APP, need)
        )
        events = [e.data for e in await routing_events(routing, 2 * sent)]
    routed = {e.need.need_id: e.case_id for e in events if isinstance(e, NeedRouted)}
    linked = {e.need_id: e.case_id for e in events if isinstance(e, DuplicateReportLinked)}
    assert set(routed) == {first.need_id, far.need_id}, "300 m away is another fly-tip"
    assert linked == {near_far.need_id: routed[far.need_id], same_uprn.need_id: routed[first.need_id]}


async def test_the_chaser_two_calls_about_an_open_case_are_avoidable(routing: RunningRouting) -> None:
    resident = uuid4()
    missed_bin = Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524", description="Bin missed")
    first = a_contact(Channel.WEB, missed_bin, resident)
    bootstrap, ns = routing.settings.kafka_bootstrap_servers, routing.settings.topic_namespace
    await publish_events(bootstrap, ns, first)
    [routed, _] = await routing_events(routing, 2)
    assert isinstance(routed.data, NeedRouted)
    reference = case_reference_for(routed.data.case_id)
    chase_by_reference = Need(
        need_id=uuid4(), kind=NeedKind.INFORMATION, about_reference=reference, description="Where is my bin collection?"
    )
    chase_again = Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524", description="Still not done")
    chasers = [
        a_contact(Channel.TELEPHONE, chase_by_reference, uuid4()),
        a_contact(Channel.TELEPHONE, chase_again, resident),
    ]
    await publish_events(bootstrap, ns, *chasers)
    # Decisions are ordered per contact, not across contacts: pick each chaser's own.
    events = [e.data for e in await routing_events(routing, 4)]
    chaser_ids = {c.data.contact_id for c in chasers}  # type: ignore[attr-defined]
    verdicts = [e for e in events if getattr(e, "contact_id", None) in chaser_ids]
    assert all(isinstance(e, ContactAssessed) for e in verdicts), "a chase raises no new case"
    assert [(e.avoidable, e.category, e.related_case_id) for e in verdicts] == [  # type: ignore[union-attr]
        (True, AvoidableCategory.PROGRESS_CHASING, routed.data.case_id),
    ] * 2


async def test_a_reroute_revises_the_contact_as_wrongly_routed(routing: RunningRouting) -> None:
    bootstrap, ns = routing.settings.kafka_bootstrap_servers, routing.settings.topic_namespace
    contact = a_contact(Channel.WEB, Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="557"))
    await publish_events(bootstrap, ns, contact)
    [routed, _] = await routing_events(routing, 2)
    reroute = CaseReassigned(
        case_id=routed.data.case_id,
        reassigned_at=datetime.now(UTC),
        team="street-lighting",  # type: ignore[attr-defined]
        previous_team="highways-inspectors",
        reason="It is a lamp, not the road",
        rerouted=True,
    )
    await publish_events(bootstrap, ns, EventEnvelope.wrap(reroute, source="/onestop/cases"))
    revised = (await routing_events(routing, 3))[2].data
    assert isinstance(revised, ContactAssessed)
    assert revised.category is AvoidableCategory.WRONGLY_ROUTED
    assert revised.contact_id == contact.data.contact_id  # type: ignore[attr-defined]


async def test_rules_reload_without_a_restart_and_each_version_is_published(start_routing: Any, tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    shutil.copy(PACKAGED / "routing_rules.yaml", rules_file)
    routing: RunningRouting = await start_routing(routing_rules_file=rules_file, routing_rules_poll_seconds=0.1)
    bootstrap, ns = routing.settings.kafka_bootstrap_servers, routing.settings.topic_namespace
    rules_topic = contract_topics.ROUTING_RULES.qualified(ns)
    [first] = await read_events(bootstrap, rules_topic, 1)
    assert isinstance(first.data, RoutingRulesPublished) and first.data.rules_version == "2026.11.1"

    rules_file.write_text(
        rules_file.read_text()
        .replace('version: "2026.11.1"', 'version: "2026.11.2"')
        .replace(
            "{team: street-lighting, hand_off_model: fire_and_forget}",
            "{team: lighting-contractor, hand_off_model: fire_and_forget}",
        )
    )
    [_, second] = await read_events(bootstrap, rules_topic, 2)
    assert second.data.rules_version == "2026.11.2"  # type: ignore[attr-defined]

    await publish_events(
        bootstrap, ns, a_contact(Channel.APP, Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="564"))
    )
    [routed, _] = await routing_events(routing, 2)
    assert routed.data.team == "lighting-contractor" and routed.data.rules_version == "2026.11.2"  # type: ignore[attr-defined]

    rules_file.write_text("version: broken\nrules: [")
    rules = await routing.client.post("/rules/reload", headers=ADMIN)
    assert rules.status_code == 422 and "keeping version 2026.11.2" in rules.json()["detail"]


async def test_free_text_below_the_threshold_waits_in_triage_until_a_person_chooses(routing: RunningRouting) -> None:
    bootstrap, ns = routing.settings.kafka_bootstrap_servers, routing.settings.topic_namespace
    vague = Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, description="Hello, I have a question about something")
    clear = Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, description="The street light outside is out again")
    contact = a_contact(Channel.EMAIL, vague)
    await publish_events(bootstrap, ns, contact, a_contact(Channel.EMAIL, clear))
    events = [e.data for e in await routing_events(routing, 3)]
    triaged = next(e for e in events if isinstance(e, NeedSentToTriage))
    routed = next(e for e in events if isinstance(e, NeedRouted))
    assert triaged.need_id == vague.need_id
    assert routed.service_code == "564" and routed.classified_confidence is not None

    queue = (await routing.client.get("/triage", headers=ADMIN)).json()
    assert [row["need_id"] for row in queue] == [str(vague.need_id)]
    chosen = await routing.client.post(
        f"/triage/{contact.data.contact_id}/{vague.need_id}",  # type: ignore[attr-defined]
        json={"service_code": "58"},
        headers=ADMIN,
    )
    assert chosen.status_code == 200
    assert [e["type"] for e in chosen.json()["events"]] == ["onestop.need.routed", "onestop.contact.assessed"]
    chosen_ids = {e["id"] for e in chosen.json()["events"]}
    decided = [e for e in await routing_events(routing, 5) if str(e.id) in chosen_ids]
    assert [e.correlationid for e in decided] == [contact.correlationid] * 2, "the decision continues the journey"
    again = await routing.client.post(
        f"/triage/{contact.data.contact_id}/{vague.need_id}",  # type: ignore[attr-defined]
        json={"service_code": "58"},
        headers=ADMIN,
    )
    assert again.status_code == 404


async def test_a_case_raised_elsewhere_is_known_for_chasing(routing: RunningRouting) -> None:
    bootstrap, ns = routing.settings.kafka_bootstrap_servers, routing.settings.topic_namespace
    case_id = uuid4()
    raised = CaseRaised(
        case_id=case_id,
        reference="OS-ABCD-EFGH",
        raised_at=datetime.now(UTC) - timedelta(days=2),
        contact_id=uuid4(),
        need_id=uuid4(),
        channel=Channel.POST,
        kind=NeedKind.SERVICE_REQUEST,
        service_code="141",
        service_area="housing",
    )
    await publish_events(bootstrap, ns, EventEnvelope.wrap(raised, source="/onestop/cases"))

    async def known() -> bool:
        return bool(
            await routing.app.state.runtime.pool.fetchval("SELECT 1 FROM known_cases WHERE case_id = $1", case_id)
        )

    await eventually(known)
    chase = Need(need_id=uuid4(), kind=NeedKind.INFORMATION, about_reference="OS-ABCD-EFGH")
    await publish_events(bootstrap, ns, a_contact(Channel.TELEPHONE, chase))
    [assessed] = await routing_events(routing, 1)
    assert assessed.data.related_case_id == case_id  # type: ignore[attr-defined]


async def test_the_rules_watcher_is_supervised_and_its_failure_shows_on_health(
    start_routing: Any, tmp_path: Path
) -> None:
    rules_file = tmp_path / "rules.yaml"
    shutil.copy(PACKAGED / "routing_rules.yaml", rules_file)
    routing: RunningRouting = await start_routing(routing_rules_file=rules_file, routing_rules_poll_seconds=0.1)

    async def watcher(state: str) -> str | None:
        check: str = (await routing.client.get("/health")).json()["checks"]["rules watcher"]
        return check if check.startswith(state) else None

    await eventually(lambda: watcher("ok"))
    rules_file.unlink()  # the watcher cannot read it any more
    failing = await eventually(lambda: watcher("failing"))
    assert "FileNotFoundError" in failing
    assert (await routing.client.get("/health")).status_code == 503
