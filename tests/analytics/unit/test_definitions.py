"""The published definitions: every figure on the dashboard links to a section of MEASURES.md that exists."""

import re
from datetime import UTC, datetime
from pathlib import Path

from onestop.analytics.adapters.measures import Filter
from onestop.analytics.web.dashboard import render_dashboard, render_definitions
from onestop.analytics.web.definitions import anchor, render_markdown

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
        "open_cases_by_age": {"bands": {}},
        "complaints": {"by_stage": {}},
        "satisfaction": {"percent": None},
        "reasons_for_contact": {"by_month": {}},
        "duplicates_absorbed": {"reports_linked": 0},
    },
}


def test_anchors_are_made_as_github_makes_them() -> None:
    assert anchor("Avoidable contact (NI14)") == "avoidable-contact-ni14"
    assert anchor("First-contact resolution") == "first-contact-resolution"


def test_every_figure_on_the_dashboard_links_to_a_definition_that_exists() -> None:
    month = Filter(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    page = render_dashboard(EMPTY_MONTH, month)
    cards = len(re.findall(r"<div class='card[ ']", page))
    charts = page.count("<section>")
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
