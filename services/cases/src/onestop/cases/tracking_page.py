"""The public tracking page: where a request has got to and what happened so far, in plain English or Welsh.

It shows what the tracking view holds and nothing more: no personal data, no staff notes.
"""

from datetime import datetime
from html import escape
from typing import Any

from fastapi.responses import HTMLResponse

from onestop.servicekit.pages import page

WELSH_MONTHS = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)

WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Your request {reference}",
        "status": "Status",
        "expected": "We expect to finish by",
        "latest": "Latest news",
        "history": "What has happened so far",
        "not_found_title": "We cannot find that request",
        "not_found": "Check the reference in your message. It looks like OS-AB12-CD34.",
        "statuses": {
            "raised": "We have received your request",
            "handed_off": "With the team that will deal with it",
            "accepted": "The team has planned the work",
            "in_progress": "In progress",
            "resolved": "Done",
            "declined": "We cannot do what was asked",
            "closed": "Closed",
        },
        "steps": {
            "raised": "We received your request",
            "handed-off": "We passed it to the team that will deal with it",
            "accepted": "The team accepted the work",
            "progress-updated": "The team sent news about the work",
            "resolved": "The work was done",
            "declined": "We decided we cannot do what was asked",
            "closed": "We closed the request",
            "reopened": "We reopened the request",
        },
    },
    "cy": {
        "title": "Eich cais {reference}",
        "status": "Statws",
        "expected": "Disgwyliwn orffen erbyn",
        "latest": "Y newyddion diweddaraf",
        "history": "Beth sydd wedi digwydd hyd yma",
        "not_found_title": "Ni allwn ddod o hyd i'r cais hwnnw",
        "not_found": "Gwiriwch y cyfeirnod yn eich neges. Mae'n edrych fel OS-AB12-CD34.",
        "statuses": {
            "raised": "Rydym wedi cael eich cais",
            "handed_off": "Gyda'r tîm a fydd yn delio ag ef",
            "accepted": "Mae'r tîm wedi cynllunio'r gwaith",
            "in_progress": "Ar y gweill",
            "resolved": "Wedi'i wneud",
            "declined": "Ni allwn wneud yr hyn a ofynnwyd",
            "closed": "Wedi cau",
        },
        "steps": {
            "raised": "Cawsom eich cais",
            "handed-off": "Anfonwyd ef at y tîm a fydd yn delio ag ef",
            "accepted": "Derbyniodd y tîm y gwaith",
            "progress-updated": "Anfonodd y tîm newyddion am y gwaith",
            "resolved": "Cafodd y gwaith ei wneud",
            "declined": "Penderfynasom na allwn wneud yr hyn a ofynnwyd",
            "closed": "Gwnaethom gau'r cais",
            "reopened": "Gwnaethom ailagor y cais",
        },
    },
}


def day(moment: datetime, language: str) -> str:
    """5 March 2026, or 5 Mawrth 2026."""
    if language == "cy":
        return f"{moment.day} {WELSH_MONTHS[moment.month - 1]} {moment.year}"
    return f"{moment.day} {moment:%B %Y}"


def tracking_page(tracked: dict[str, Any], language: str) -> HTMLResponse:
    words = WORDS[language]
    status = str(tracked["status"])
    facts = [(words["status"], words["statuses"].get(status, status.replace("_", " ")))]
    if tracked.get("expected_by") and not tracked.get("closed_at"):
        facts.append((words["expected"], day(tracked["expected_by"], language)))
    if tracked.get("public_note"):
        facts.append((words["latest"], str(tracked["public_note"])))
    summary = "\n".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in facts)
    steps = "\n".join(
        f'<li><time datetime="{step["at"].isoformat()}">{escape(day(step["at"], language))}</time>: '
        f"{escape(words['steps'].get(step['step'], step['step']))}</li>"
        for step in tracked.get("history", [])
    )
    body = f"<dl>\n{summary}\n</dl>\n<h2>{escape(words['history'])}</h2>\n<ol>\n{steps}\n</ol>"
    return page(words["title"].format(reference=tracked["reference"]), body, language)


def not_found_page(language: str) -> HTMLResponse:
    words = WORDS[language]
    return page(words["not_found_title"], f"<p>{escape(words['not_found'])}</p>", language, status_code=404)
