"""Every table of figures the council publishes, built once from the measures: the dashboard draws them, the
published-performance page lists them, and each can be downloaded as CSV. Only counts, shares and fixed
labels (services, channels, reasons, months): never free text."""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onestop.analytics.adapters.measures import Filter
from onestop.contracts.service_catalogue import service_catalogue

HAND_OFF_MODEL_NAMES = {
    "one_and_done": "One & Done",
    "fire_and_forget": "Fire & Forget",
    "customer_advocate": "Customer Advocate",
}
TREND_NAMES = {
    "avoidable_contact_percent": "Avoidable contact (NI14) %",
    "first_contact_resolution_percent": "Resolved at first contact %",
    "self_service_percent": "Self-service share %",
    "satisfaction_percent": "Satisfied customers %",
}


@dataclass(frozen=True)
class Card:
    title: str
    value: float | int | None
    unit: str
    defined_in: str
    target: float | None = None
    higher_is_better: bool = True


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    defined_in: str  # its section of MEASURES.md
    unit: str = ""  # of the last column, when it is drawn as bars

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows(["" if value is None else value for value in row] for row in self.rows)
        return out.getvalue()


def cards(figures: Mapping[str, Any]) -> list[Card]:
    """The headline figures, each against its target where the council has one."""
    m, t = figures["measures"], figures["targets"]
    phone, wait = m["telephone"], m["face_to_face"]["average_wait_seconds"]
    return [
        Card(
            "Avoidable contact (NI14)",
            m["avoidable_contact"]["percent"],
            "%",
            "Avoidable contact (NI14)",
            t["avoidable_contact_max_percent"],
            higher_is_better=False,
        ),
        Card(
            "Resolved at first contact",
            m["first_contact_resolution"]["percent"],
            "%",
            "First-contact resolution",
            t["first_contact_resolution_min_percent"],
        ),
        Card("Self-service share", m["channel_mix"]["self_service_percent"], "%", "Channel mix and self-service share"),
        Card(
            "Calls abandoned",
            phone["abandonment_percent"],
            "%",
            "Telephone",
            t["abandonment_max_percent"],
            higher_is_better=False,
        ),
        Card(
            "Calls answered in 20 seconds",
            phone["answered_within_20s_percent"],
            "%",
            "Telephone",
            t["answered_in_20s_min_percent"],
        ),
        Card("Average speed of answer", phone["average_speed_of_answer_seconds"], " s", "Telephone"),
        Card(
            "Average wait at the one-stop shop",
            round(wait / 60, 1) if wait is not None else None,
            " min",
            "Face to face",
            t["face_to_face_wait_max_seconds"] / 60,
            higher_is_better=False,
        ),
        Card(
            "Cases within the service standard",
            m["sla_compliance"]["percent"],
            "%",
            "Service-level compliance",
            t["sla_compliance_min_percent"],
        ),
        Card("Satisfied customers", m["satisfaction"]["percent"], "%", "Satisfaction", t["satisfaction_min_percent"]),
        Card(
            "Written replies within target",
            m["written_replies"]["replied_within_target_percent"],
            "%",
            "Reply time for written contact",
            t["written_reply_min_percent"],
        ),
        Card(
            "Duplicate reports absorbed", m["duplicates_absorbed"]["reports_linked"], "", "Duplicate reports absorbed"
        ),
        Card("Cases reopened", m["reopened_cases"]["reopenings"], "", "Reopened cases"),
    ]


def as_of(moment: datetime, period: Filter) -> str:
    """When open cases are counted: today while the period runs, else its end (the council's clock)."""
    if moment < period.end:
        return f"on {moment.astimezone(period.zone):%d %B %Y}"
    return f"at the end of {period.start:%B %Y}"


def charts(figures: Mapping[str, Any], period: Filter) -> dict[str, Table]:
    """The tables the dashboard draws as bars: a label and a figure per row."""
    m = figures["measures"]
    ni14 = m["avoidable_contact"]
    catalogue = service_catalogue()
    reasons: dict[str, int] = {}
    for by_code in m["reasons_for_contact"]["by_month"].values():
        for code, count in by_code.items():
            reasons[code] = reasons.get(code, 0) + count
    top_reasons = [
        (catalogue.service(code).name if catalogue.service(code) else code, count)  # type: ignore[union-attr]
        for code, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:10]
    ]
    return {
        "contacts_by_channel": Table(
            "Contacts by channel",
            ("channel", "contacts"),
            list(m["channel_mix"]["by_channel"].items()),
            "Channel mix and self-service share",
        ),
        "avoidable_by_reason": Table(
            "Avoidable contact by reason",
            ("reason", "avoidable contacts"),
            [(k, v["avoidable"]) for k, v in ni14["by"]["category"].items()],
            "Avoidable contact (NI14)",
        ),
        "avoidable_by_service": Table(
            "Avoidable contact by service (%)",
            ("service", "avoidable percent"),
            [(k, v["percent"]) for k, v in ni14["by"]["service_area"].items()],
            "Avoidable contact (NI14)",
            "%",
        ),
        "sla_by_service": Table(
            "Cases within the service standard, by service (%)",
            ("service", "within standard percent"),
            [(k, v["percent"]) for k, v in m["sla_compliance"]["by_service_area"].items()],
            "Service-level compliance",
            "%",
        ),
        "open_cases_by_age": Table(
            f"Open cases by age {as_of(m['open_cases_by_age']['as_of'], period)}",
            ("age", "open cases"),
            list(m["open_cases_by_age"]["bands"].items()),
            "Open cases by age",
        ),
        "complaints_by_stage": Table(
            "Complaints by stage",
            ("stage", "started"),
            [
                (f"{stage.replace('_', ' ')} ({v['on_time']} on time, {v['late']} late)", v["started"])
                for stage, v in sorted(m["complaints"]["by_stage"].items())
            ],
            "Complaints",
        ),
        "top_reasons": Table("Top reasons for contact", ("service", "needs"), top_reasons, "Reasons for contact"),
    }


def tables(figures: Mapping[str, Any], period: Filter) -> dict[str, Table]:
    """Every published table, by the name its CSV is downloaded under."""
    m = figures["measures"]
    headline = Table(
        "Headline figures",
        ("measure", "figure", "unit", "target"),
        [(card.title, card.value, card.unit.strip(), card.target) for card in cards(figures)],
        "When things count",
    )
    hand_offs = Table(
        "Cases by hand-off model",
        ("model", "cases", "resolved percent", "contacted again percent"),
        [
            (HAND_OFF_MODEL_NAMES.get(model, model), v["cases"], v["resolution_percent"], v["recontact_percent"])
            for model, v in m["hand_off_models"]["by_model"].items()
        ],
        "Hand-off models",
    )
    by_channel = Table(
        "Performance by channel",
        ("channel", "contacts", "avoidable percent", "resolved at first contact percent"),
        [
            (
                channel.replace("_", " "),
                v["contacts"],
                v["avoidable_contact_percent"],
                v["first_contact_resolution_percent"],
            )
            for channel, v in m["by_channel"].items()
        ],
        "Performance by channel",
    )
    series = m["trends"]["series"]
    trends = Table(
        "Month by month, against the same month a year before",
        ("month", *(f"{label}{suffix}" for label in TREND_NAMES.values() for suffix in ("", " a year before"))),
        [
            (
                month,
                *(series[name][month][which] for name in TREND_NAMES for which in ("value", "year_before")),
            )
            for month in m["trends"]["months"]
        ],
        "Trends",
    )
    return {
        "headline": headline,
        **charts(figures, period),
        "hand_off_models": hand_offs,
        "by_channel": by_channel,
        "trends": trends,
    }
