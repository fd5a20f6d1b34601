"""The acceptance stories that involve staff, played through the desk in a real browser (Debian's Chromium
driven by Playwright) against the real services. axe-core checks every page against WCAG 2.2 AA, and a
screenshot of each page is kept in tests/artifacts/desk/."""

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from onestop.localinfra.keycloak import Keycloak
from onestop.localinfra.paths import repo_root
from tests.desk.running_desk import DeskSystem, shared_desk, sign_in_browser, start_desk
from tests.support import eventually

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = repo_root() / ".local" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = repo_root() / "tests" / "artifacts" / "desk"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
REFERENCE = re.compile(r"OS-[0-9A-Z]{4}-[0-9A-Z]{4}")
FLYTIPPING, LANE = "587", (52.2405, -0.9027)


@pytest.fixture(scope="session")
async def desk(kafka_bootstrap: str, postgres_url: str, provider: Keycloak) -> AsyncIterator[DeskSystem]:
    async with shared_desk(kafka_bootstrap, postgres_url, provider, start_desk) as system:
        yield system


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        await launched.close()


CHECKED: set[str] = set()  # pages already checked in this session: each is checked once


class Person:
    """A member of staff at the desk in their own browser window: every page they reach is checked with axe
    and photographed."""

    def __init__(self, page: Any, desk: DeskSystem) -> None:
        self.page = page
        self.desk = desk

    async def checked(self, name: str) -> None:
        """No WCAG 2.2 AA violation on the page shown, and its screenshot kept as `name`.png."""
        if name in CHECKED:
            return
        CHECKED.add(name)
        await self.page.add_script_tag(path=str(AXE))
        found = await self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
        )
        violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found["violations"]]
        assert violations == [], f"{name}: {violations}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    async def open(self, path: str, name: str) -> None:
        await self.page.goto(f"{self.desk.desk_url}{path}")
        await self.checked(name)

    async def log_contact(
        self, channel: str, customer: dict[str, str], needs: list[dict[str, str]], name: str
    ) -> list[str]:
        """Fill in the contact form as an adviser does, and the references the confirmation gives."""
        page = self.page
        await page.goto(f"{self.desk.desk_url}/contacts/new")
        await self.checked("log-a-contact")
        while await page.locator(".desk-need").count() < len(needs):
            await page.get_by_role("button", name="Add another need").click()
        await page.select_option("#channel", channel)
        for field, value in customer.items():
            if field == "assurance":
                await page.check(f"#assurance-{value}")
            else:
                await page.fill(f"#customer-{field}", value)
        for row, need in enumerate(needs, start=1):
            for field, value in need.items():
                selector = f"#need-{row}-{field}"
                if field in ("service", "kind", "priority"):
                    await page.select_option(selector, value)
                elif field == "resolved":
                    await page.check(selector)
                else:
                    await page.fill(selector, value)
        await page.get_by_role("button", name="Log the contact").click()
        await page.wait_for_selector(".govuk-panel--confirmation")
        await self.checked(name)
        return list(dict.fromkeys(REFERENCE.findall(await page.locator("#needs").inner_text())))

    async def open_case(self, reference: str, name: str) -> str:
        """The case page a reference leads to, once the case is raised; its case id."""
        page = self.page

        async def raised() -> bool:
            answer = await page.goto(f"{self.desk.desk_url}/cases/by-reference/{reference}")
            return answer is not None and answer.ok and "/cases/by-reference/" not in page.url

        await eventually(raised, within=60, every=0.5)
        await self.checked(name)
        return page.url.rsplit("/", 1)[1].split("?")[0]

    async def summary(self, key: str) -> str:
        row = self.page.locator(".govuk-summary-list__row", has=self.page.locator("dt", has_text=key))
        return str(await row.locator("dd").first.inner_text()).strip()


@pytest.fixture
async def person(chromium: Any, desk: DeskSystem) -> Any:
    """A member of staff with a role, signed in through the provider in a browser window of their own."""

    async def signed_in(role: str) -> Person:
        context = await chromium.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await sign_in_browser(page, desk, role)
        return Person(page, desk)

    return signed_in


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_the_new_resident_one_call_five_needs_two_resolved_one_customer(person: Any) -> None:
    adviser = await person("adviser")
    await adviser.open("/", "start")
    references = await adviser.log_contact(
        "telephone",
        {
            "name": "Jo Bloggs",
            "email": "jo.bloggs@example.org",
            "phone": "07700 900123",
            "address": "12 Abington Street, Northampton NN1 2AJ",
            "assurance": "medium",
        },
        [
            {"service": "L-CTDD", "resolved": "yes", "resolution": "Direct debit set up on the call"},
            {"service": "526", "description": "New wheelie bin"},
            {"service": "L-BINDAYS", "resolved": "yes", "resolution": "Told: Tuesdays, recycling fortnightly"},
            {"service": "21", "description": "List of registered childminders"},
            {
                "service": "564",
                "description": "Street light out outside no. 12",
                "where": "12 Abington Street",
                "position": "52.2371, -0.8943",
            },
        ],
        "contact-logged",
    )
    assert len(references) == 5
    outcomes = await adviser.page.locator("#needs tbody tr td:nth-child(3)").all_inner_texts()
    assert sum("Resolved now" in o for o in outcomes) == 2 and sum("Handed off" in o for o in outcomes) == 3

    # Support staff follow the contact through the services from its trace.
    await adviser.page.get_by_role("link", name="Trace this contact through the services").click()
    trace_page = adviser.page.url

    async def traced() -> bool:
        await adviser.page.goto(trace_page)
        services = set(await adviser.page.locator("#trace tbody tr td:first-child").all_inner_texts())
        return {"intake", "routing", "cases"} <= services

    await eventually(traced, within=60, every=0.5)
    assert (await adviser.page.locator("#trace tbody tr td:nth-child(2)").all_inner_texts())[0] == "POST /contacts"
    await adviser.checked("trace")

    await adviser.open_case(references[4], "case")
    assert "Street light out outside no. 12" in await adviser.summary("What they told us")
    assert await adviser.summary("Name") == "Jo Bloggs"
    assert "Handed to" in await adviser.page.locator("#history").inner_text()

    await adviser.page.goto(f"{adviser.desk.desk_url}/customers")
    await adviser.checked("find-a-customer")
    await adviser.page.fill("#q", "NN1 2AJ")
    await adviser.page.get_by_role("button", name="Search").click()
    await adviser.page.wait_for_selector("#results-heading")
    await adviser.checked("search-results")
    await adviser.page.get_by_role("link", name="Jo Bloggs").first.click()
    await adviser.page.wait_for_selector("#cases-heading")
    await adviser.checked("customer")
    cases = await adviser.page.locator("table[aria-labelledby=cases-heading] tbody tr").count()
    contacts = await adviser.page.locator("table[aria-labelledby=contacts-heading] tbody tr").all_inner_texts()
    assert cases == 5 and len(contacts) == 1 and contacts[0].rstrip().endswith("5")

    # One acknowledgement for the five, once notify has sent it.
    async def acknowledged() -> bool:
        await adviser.page.reload()
        return (
            "Acknowledgement" in await adviser.page.locator("table[aria-labelledby=notifications-heading]").inner_text()
        )

    await eventually(acknowledged, within=60, every=0.5)
    await adviser.checked("customer-notified")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_the_bereavement_one_visit_five_services(person: Any) -> None:
    adviser = await person("adviser")
    references = await adviser.log_contact(
        "face_to_face",
        {"name": "Sam Okafor", "email": "sam.okafor@example.org", "assurance": "medium"},
        [
            {"service": "321", "description": "Register the death of my father"},
            {"service": "1619", "description": "End his council tenancy"},
            {"service": "L-CTARR", "description": "Council tax arrears on his account"},
            {"service": "280", "description": "Return his bus pass"},
            {"service": "912", "description": "Clear the house"},
        ],
        "contact-logged-bereavement",
    )
    assert len(references) == 5
    services = await adviser.page.locator("#needs tbody tr td:nth-child(2)").all_inner_texts()
    assert services == [
        "Death registration",
        "Ending housing tenancy",
        "Council tax arrears",
        "Bus passes for disabled or older people",
        "House clearance and re-housing",
    ]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_the_complaint_escalated_to_stage_one_then_two_each_with_its_owner_and_deadline(person: Any) -> None:
    adviser = await person("adviser")
    [reference] = await adviser.log_contact(
        "telephone",
        {"name": "Chris Doyle", "email": "chris.doyle@example.org"},
        [{"service": "353", "kind": "complaint", "description": "My bin has been missed four weeks running"}],
        "contact-logged-complaint",
    )
    manager = await person("complaints_manager")
    case_id = await manager.open_case(reference, "case-complaint")
    stages = []
    for step in ("stage 1", "stage 2"):
        await manager.page.get_by_role("button", name="Escalate to the next stage").click()
        await manager.page.wait_for_selector(".govuk-notification-banner--success")
        await manager.checked(f"case-complaint-{step.replace(' ', '-')}")
        stages.append(await manager.summary("Complaint stage"))
        assert step in stages[-1]
        assert await manager.summary("Complaint due")
    history = await manager.page.locator("#history").inner_text()
    assert "Complaint at stage 1" in history and "Complaint at stage 2" in history

    # Stage 2 is the last: the cases service refuses, and the desk shows its reason in the error summary.
    await manager.page.get_by_role("button", name="Escalate to the next stage").click()
    summary = manager.page.locator(".govuk-error-summary")
    await summary.wait_for()
    assert (await summary.locator("li").inner_text()).strip()
    await manager.checked("case-error-summary")
    assert manager.page.url.endswith(f"/cases/{case_id}/escalate")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_the_chaser_two_calls_about_an_open_missed_bin_alert_its_advocate(person: Any) -> None:
    adviser = await person("adviser")
    customer = {"name": "Lee Carter", "email": "lee.carter@example.org", "phone": "07700 900456"}
    [reference] = await adviser.log_contact(
        "telephone", customer, [{"service": "524", "description": "Bin missed on Tuesday"}], "contact-logged-missed-bin"
    )
    await adviser.open_case(reference, "case-missed-bin")
    for call in (1, 2):
        chased = await adviser.log_contact(
            "telephone",
            customer,
            [{"service": "524", "description": "Still not collected", "about": reference}],
            f"contact-logged-chaser-{call}",
        )
        assert chased

    async def chased_twice() -> bool:
        await adviser.page.reload()
        return await adviser.summary("Chases") == "2"

    await adviser.open_case(reference, "case-missed-bin")
    await eventually(chased_twice, within=60, every=0.5)
    assert "The customer chased by telephone" in await adviser.page.locator("#history").inner_text()
    await adviser.checked("case-chased")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_the_fly_tip_ten_reporters_one_case_worked_and_cleared(person: Any, desk: DeskSystem) -> None:
    # Nine reports from the app and the web, a few metres apart; the tenth by phone at the desk.
    first = None
    for n in range(9):
        receipt = await desk.submit_contact(
            {
                "channel": ("app", "web")[n % 2],
                "customer": {"name": f"Reporter {n}", "email": f"desk.flytip{n}@example.org"},
                "needs": [
                    {
                        "kind": "report_problem",
                        "service_code": FLYTIPPING,
                        "description": "Mattresses dumped in the lane",
                        "location": {"latitude": LANE[0] + n * 0.00002, "longitude": LANE[1]},
                    }
                ],
            }
        )
        if first is None:
            first = receipt["needs"][0]["reference"]
            await desk.case_of(first)
    assert first is not None
    adviser = await person("adviser")
    [phoned] = await adviser.log_contact(
        "telephone",
        {"name": "Reporter 9", "email": "desk.flytip9@example.org"},
        [
            {
                "service": FLYTIPPING,
                "description": "Mattresses in the lane",
                "position": f"{LANE[0] + 0.0002}, {LANE[1]}",
            }
        ],
        "contact-logged-flytip",
    )

    leader = await person("team_leader")
    case_id = await leader.open_case(phoned, "case-flytip")  # the tenth report leads to the one case
    assert case_id == (await desk.case_of(first))["case_id"]

    async def all_linked() -> bool:
        await leader.page.reload()
        return await leader.summary("Reporters") == "9"

    await eventually(all_linked, within=60, every=0.5)
    await leader.open("/worklists?service_area=street_cleaning", "worklists")
    await leader.page.goto(f"{desk.desk_url}/cases/{case_id}")
    await leader.page.fill("#resolve-outcome", "Cleared by the street scene team")
    await leader.page.get_by_role("button", name="Resolve").click()
    await leader.page.wait_for_selector(".govuk-notification-banner--success")
    await leader.checked("case-resolved")

    # Every reporter's own reference tracks the one case, and each is told it is cleared.
    await leader.open(f"/track/{first}", "track")
    assert "Done" in await leader.page.locator("#steps").inner_text()
    await leader.page.goto(f"{desk.desk_url}/track/{phoned}")
    assert await leader.summary("Status") in ("resolved", "closed")
    for n in (0, 5, 9):
        await desk.mail.wait_for(f"desk.flytip{n}@example.org", 2, within=60)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_the_planning_applicant_starts_by_phone_and_tracks_progress(person: Any) -> None:
    adviser = await person("adviser")
    [reference] = await adviser.log_contact(
        "telephone",
        {
            "name": "Ana Silva",
            "email": "ana.silva@example.org",
            "address": "7 Billing Road, Northampton NN1 5AN",
            "assurance": "low",
        },
        [{"service": "487", "kind": "application", "description": "Rear extension, two storeys"}],
        "contact-logged-planning",
    )
    await adviser.open("/track", "track-form")
    await adviser.page.fill("#reference", reference)
    await adviser.page.get_by_role("button", name="Track").click()

    async def received() -> bool:
        await adviser.page.goto(f"{adviser.desk.desk_url}/track/{reference}")
        return "We received the request" in await adviser.page.locator("main").inner_text()

    await eventually(received, within=60, every=0.5)
    assert "No date given" not in await adviser.summary("Expected by")
    await adviser.checked("track-planning")

    trace = adviser.page
    await trace.goto(f"{adviser.desk.desk_url}/traces")
    await adviser.checked("trace-form")
