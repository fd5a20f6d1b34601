"""The published dashboard in a real browser (Debian's Chromium driven by Playwright), with a screenshot."""

import asyncio
import contextlib
import shutil
import socket
from pathlib import Path

import pytest
import uvicorn

from tests.analytics.conftest import RunningAnalytics
from tests.analytics.synthetic_month import synthetic_month
from tests.support import eventually, publish_events

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
