"""The published dashboard in a real browser (Debian's Chromium driven by Playwright), with a screenshot."""

import asyncio
import contextlib
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from onestop.analytics.web.tables import HAND_OFF_MODEL_NAMES, TREND_NAMES
from tests.analytics.conftest import RunningAnalytics
from tests.analytics.synthetic_month import synthetic_month
from tests.analytics.synthetic_traffic import card_values
from tests.support import bearer, eventually, publish_events

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


ANALYST = bearer("analytics:read")
NAMES = HAND_OFF_MODEL_NAMES


def figure(value: float | None) -> str:
    return "no figure" if value is None else f"{value:g}"


async def rows_of(page: Any, table: str) -> list[list[str]]:
    """The cells of each row of the published table `table`, as the browser shows them."""
    rows = page.locator(f"#{table} table tr")
    return [await rows.nth(n).locator("td").all_inner_texts() for n in range(1, await rows.count())]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
async def test_the_dashboard_reads_well_in_a_browser_and_drills_down_to_contacts(analytics: RunningAnalytics) -> None:
    from playwright.async_api import async_playwright

    month = synthetic_month(seed=7)
    await publish_events(
        analytics.settings.kafka_bootstrap_servers, analytics.settings.topic_namespace, *month.envelopes()
    )
    await analytics.until_handled(month.events)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(analytics.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, result=server.started), within=20)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.goto(f"http://127.0.0.1:{port}/dashboard?month=2026-03")
            assert await page.title() == "Customer services performance: March 2026"
            cards = await page.locator(".card h2").all_inner_texts()
            assert "Avoidable contact (NI14)" in cards and "Calls abandoned" in cards
            assert await page.locator("svg[role=img]").count() >= 5

            # The figures the reader sees are the API's.
            api = (await analytics.client.get("/measures?month=2026-03", headers=ANALYST)).json()["measures"]
            values = await page.locator(".card .value").all_inner_texts()
            shown = dict(zip(cards, values, strict=True))
            assert card_values(api).items() <= shown.items()
            within = api["written_replies"]["replied_within_target_percent"]
            assert shown["Written replies within target"] == ("no figure" if within is None else f"{within:g}%")
            assert await rows_of(page, "hand_off_models") == [
                [NAMES[model], str(v["cases"]), figure(v["resolution_percent"]), figure(v["recontact_percent"])]
                for model, v in api["hand_off_models"]["by_model"].items()
            ]
            assert await rows_of(page, "by_channel") == [
                [
                    channel.replace("_", " "),
                    str(v["contacts"]),
                    figure(v["avoidable_contact_percent"]),
                    figure(v["first_contact_resolution_percent"]),
                ]
                for channel, v in api["by_channel"].items()
            ]
            march = api["trends"]["series"]
            assert (await rows_of(page, "trends"))[-1] == [
                "2026-03",
                *(figure(march[name]["2026-03"][which]) for name in TREND_NAMES for which in ("value", "year_before")),
            ]
            assert (
                figure(march["avoidable_contact_percent"]["2026-03"]["value"]) == shown["Avoidable contact (NI14)"][:-1]
            )
            ages = page.locator("section", has=page.locator("h2", has_text="Open cases by age")).locator("svg title")
            assert await ages.all_text_contents() == [
                f"{band}: {count}" for band, count in api["open_cases_by_age"]["bands"].items() if count is not None
            ]
            async with page.expect_download() as downloading:
                await page.locator("#trends a", has_text="Download as CSV").click()
            download = await downloading.value
            assert download.suggested_filename == "trends-2026-03.csv"

            await page.goto(f"http://127.0.0.1:{port}/published?month=2026-03")
            assert await page.title() == "How we performed: March 2026"
            headline = {row[0]: row[1] for row in await rows_of(page, "headline")}
            assert headline["Avoidable contact (NI14)"] == figure(api["avoidable_contact"]["percent"])
            assert (await rows_of(page, "trends"))[-1][0] == "2026-03"
            await page.screenshot(path=str(ARTIFACTS / "published.png"), full_page=True)
            await page.goto(f"http://127.0.0.1:{port}/dashboard?month=2026-03")

            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            await page.select_option("#service_area", "waste")
            await page.click("button[type=submit]")
            await page.wait_for_url("**service_area=waste**")
            assert "Waste and recycling" in await page.locator("header p").inner_text()

            await page.goto(f"http://127.0.0.1:{port}/dashboard?month=2026-03")
            await page.locator("svg a").first.click()
            await page.wait_for_url("**/dashboard/ni14**")
            assert "Avoidable contacts, March 2026" in await page.title()
            assert await page.locator("table tr").count() > 1
            await page.screenshot(path=str(ARTIFACTS / "dashboard-ni14.png"), full_page=True)
            await browser.close()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
