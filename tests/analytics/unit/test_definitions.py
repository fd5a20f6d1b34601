"""The published definitions: every figure on the dashboard links to a section of MEASURES.md that exists."""

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from onestop.analytics.adapters.measures import Filter
from onestop.analytics.web.dashboard import render_dashboard, render_definitions, render_published
from onestop.analytics.web.definitions import anchor, render_markdown
from onestop.analytics.web.tables import TREND_NAMES, tables

MEASURES_MD = Path(__file__).resolve().parents[3] / "services" / "analytics" / "MEASURES.md"
EMPTY_MONTH = {
    "targets": {
        "abandonment_max_percent": 5.0,
        "answered_in_20s_min_percent": 80.0,
        "first_contact_resolution_min_percent": 75.0,
        "avoidable_contact_max_percent": 20.0,
        "satisfaction_min_percent": 75.0,
        "face_to_face_wait_max_seconds": 600.0,
        "sla_compliance_min_percent": 90.0,
        "written_reply_max_days": 10.0,
        "written_reply_min_percent": 90.0,
    },
    "measures": {
        "avoidable_contact": {
            "contacts": 0,
            "avoidable": 0,
            "percent": None,
            "by": {"service_area": {}, "channel": {}, "category": {}},
        },
        "first_contact_resolution": {"percent": None},
        "channel_mix": {"self_service_percent": None, "by_channel": {}},
        "telephone": {
            "abandonment_percent": None,
            "answered_within_20s_percent": None,
            "average_speed_of_answer_seconds": None,
        },
        "face_to_face": {"average_wait_seconds": None},
        "sla_compliance": {"percent": None, "by_service_area": {}},
        "written_replies": {"replied_within_target_percent": None},
        "open_cases_by_age": {"as_of": datetime(2026, 4, 1, tzinfo=UTC), "bands": {}},
        "complaints": {"by_stage": {}},
        "satisfaction": {"percent": None},
        "reasons_for_contact": {"by_month": {}},
        "duplicates_absorbed": {"reports_linked": 0},
        "hand_off_models": {"by_model": {}},
        "by_channel": {},
        "trends": {"months": [], "series": {}},
        "reopened_cases": {"reopenings": 0, "by_service_area": {}},
    },
}


def test_anchors_are_made_as_github_makes_them() -> None:
    assert anchor("Avoidable contact (NI14)") == "avoidable-contact-ni14"
    assert anchor("First-contact resolution") == "first-contact-resolution"


def test_every_figure_on_the_dashboard_links_to_a_definition_that_exists() -> None:
    month = Filter(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    page = render_dashboard(EMPTY_MONTH, month)
    cards = len(re.findall(r"<div class='card[ ']", page))
    charts = page.count("<section")
    links = re.findall(r"href='/definitions#([^']+)'", page)
    assert len(links) == cards + charts, "one definition link per card and per chart"
    published = set(re.findall(r"<h2 id='([^']+)'>", render_definitions()))
    assert set(links) <= published, set(links) - published


def test_the_definitions_page_is_measures_md() -> None:
    title, body = render_markdown(MEASURES_MD.read_text())
    assert title == "Measures: what each figure means"
    assert "<h2 id='repeat-contact'>Repeat contact</h2>" in body
    assert "<td>the planning applicant's online application</td>" in body
    assert "<strong>that had a due time</strong>" in body


def test_markdown_tables_lists_and_code_are_rendered_and_text_is_escaped() -> None:
    _, body = render_markdown(
        "## A & B\n\nText with `code` and **bold** <b>.\n\n- one\n  more\n- two\n\n"
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    )
    assert body == (
        "<h2 id='a--b'>A &amp; B</h2><p>Text with <code>code</code> and <strong>bold</strong> &lt;b&gt;.</p>"
        "<ul><li>one more</li><li>two</li></ul>"
        "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
    )


def test_open_cases_are_counted_today_while_the_month_runs_and_at_its_end_after() -> None:
    london = ZoneInfo("Europe/London")
    november = Filter(datetime(2026, 11, 1, tzinfo=london), datetime(2026, 12, 1, tzinfo=london), zone=london)
    # 23:30 UTC on 23 November is still the 23rd in London (GMT); the month ends on 1 December.
    running = EMPTY_MONTH | {
        "measures": EMPTY_MONTH["measures"]
        | {"open_cases_by_age": {"as_of": datetime(2026, 11, 23, 23, 30, tzinfo=UTC), "bands": {}}}
    }
    page = render_dashboard(running, november)
    assert "Open cases by age on 23 November 2026" in page
    assert "01 December" not in page
    over = EMPTY_MONTH | {
        "measures": EMPTY_MONTH["measures"] | {"open_cases_by_age": {"as_of": november.end, "bands": {}}}
    }
    assert "Open cases by age at the end of November 2026" in render_dashboard(over, november)


def test_the_dashboard_shows_resolution_and_recontact_per_hand_off_model() -> None:
    month = Filter(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    by_model = {
        "one_and_done": {"cases": 4, "resolution_percent": 100.0, "recontact_percent": 25.0},
        "customer_advocate": {"cases": 0, "resolution_percent": None, "recontact_percent": None},
    }
    figures = EMPTY_MONTH | {"measures": EMPTY_MONTH["measures"] | {"hand_off_models": {"by_model": by_model}}}
    page = render_dashboard(figures, month)
    section = page[page.index("<section id='hand_off_models'>") :]
    assert "<tr><td>One &amp; Done</td><td>4</td><td>100</td><td>25</td></tr>" in section
    assert "<tr><td>Customer Advocate</td><td>0</td><td>no figure</td><td>no figure</td></tr>" in section
    assert "href='/dashboard/hand_off_models.csv?month=2026-03'" in section


def test_every_table_downloads_as_csv_with_the_figures_shown() -> None:
    month = Filter(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    series = {name: {"2026-03": {"value": 12.5, "year_before": None}} for name in TREND_NAMES}
    figures = EMPTY_MONTH | {
        "measures": EMPTY_MONTH["measures"] | {"trends": {"months": ["2026-03"], "series": series}}
    }
    every = tables(figures, month)
    assert every["trends"].csv().splitlines()[1] == "2026-03,12.5,,12.5,,12.5,,12.5,"
    page = render_dashboard(figures, month)
    for name in every:
        if name != "headline":  # the cards are the headline table
            assert f"href='/dashboard/{name}.csv?month=2026-03'" in page, name
    published = render_published(figures, month)
    assert all(f"<section id='{name}'>" in published for name in every)
