"""The measures councils report, computed from the facts (definitions in services/analytics/MEASURES.md).

Every measure takes the same filter: a period [start, end) of event time, and optionally a service area
and a channel. Months are the council's (its time zone, not UTC). Percentages are rounded to one decimal
place; counts are exact.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onestop.analytics.adapters.facts import checked
from onestop.analytics.domain.periods import council_month
from onestop.analytics.settings import COUNCIL_TIMEZONE, Targets
from onestop.servicekit.database import Connection

HAND_OFF_MODELS = ("one_and_done", "fire_and_forget", "customer_advocate")
AGE_BANDS = (("0-10 days", 0, 10), ("11-30 days", 11, 30), ("31-60 days", 31, 60), ("over 60 days", 61, None))


@dataclass(frozen=True)
class Filter:
    start: datetime
    end: datetime
    service_area: str | None = None
    channel: str | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(COUNCIL_TIMEZONE))  # whose months "by month" means


def _month_label(year: int, month: int) -> str:
    """`YYYY-MM` of `month` counted from January of `year` (0 or less reaches back into earlier years)."""
    years, index = divmod(month - 1, 12)
    return f"{year + years:04d}-{index + 1:02d}"


def percent(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


class Measures:
    def __init__(self, connection: Connection, schema: str, period: Filter, now: datetime | None = None) -> None:
        self.c, self.s, self.f = connection, checked(schema), period
        self.now = now or datetime.now(UTC)  # a period not yet over is measured up to now

    def _month(self, time: str, args: list[Any]) -> tuple[str, list[Any]]:
        """SQL for the council month (YYYY-MM) of `time`, and `args` with the council's zone added for it."""
        with_zone = [*args, self.f.zone.key]
        return f"to_char({time} AT TIME ZONE ${len(with_zone)}, 'YYYY-MM')", with_zone

    async def _one(self, sql: str, *args: Any) -> Any:
        """An aggregate query: always exactly one row."""
        row = await self.c.fetchrow(sql, *args)
        assert row is not None
        return row

    def _where(
        self, time: str, area: str | None = "service_area", channel: str | None = "channel"
    ) -> tuple[str, list[Any]]:
        clauses = [f"{time} >= $1", f"{time} < $2"]
        args: list[Any] = [self.f.start, self.f.end]
        if area and self.f.service_area:
            args.append(self.f.service_area)
            clauses.append(f"{area} = ${len(args)}")
        if channel and self.f.channel:
            args.append(self.f.channel)
            clauses.append(f"{channel} = ${len(args)}")
        return " AND ".join(clauses), args

    async def avoidable_contact(self) -> dict[str, Any]:
        where, args = self._where("COALESCE(received_at, assessed_at)")
        table = f"{self.s}.assessments"
        total = await self._one(
            f"SELECT count(*) AS contacts, count(*) FILTER (WHERE avoidable) AS avoidable FROM {table} WHERE {where}",
            *args,
        )
        by: dict[str, Any] = {}
        for dimension in ("service_area", "channel", "category"):
            rows = await self.c.fetch(
                f"""SELECT {dimension} AS key, count(*) AS contacts, count(*) FILTER (WHERE avoidable) AS avoidable
                    FROM {table} WHERE {where} GROUP BY {dimension} ORDER BY {dimension}""",
                *args,
            )
            by[dimension] = {
                str(r["key"]): {
                    "contacts": r["contacts"],
                    "avoidable": r["avoidable"],
                    "percent": percent(r["avoidable"], r["contacts"]),
                }
                for r in rows
            }
        by["category"].pop("None", None)
        month, month_args = self._month("COALESCE(received_at, assessed_at)", args)
        months = await self.c.fetch(
            f"""SELECT {month} AS month, count(*) AS contacts, count(*) FILTER (WHERE avoidable) AS avoidable
                FROM {table} WHERE {where} GROUP BY 1 ORDER BY 1""",
            *month_args,
        )
        by["month"] = {
            r["month"]: {
                "contacts": r["contacts"],
                "avoidable": r["avoidable"],
                "percent": percent(r["avoidable"], r["contacts"]),
            }
            for r in months
        }
        return {
            "contacts": total["contacts"],
            "avoidable": total["avoidable"],
            "percent": percent(total["avoidable"], total["contacts"]),
            "by": by,
        }

    async def first_contact_resolution(self) -> dict[str, Any]:
        where, args = self._where("raised_at")
        row = await self._one(
            f"SELECT count(*) AS needs, count(*) FILTER (WHERE first_contact) AS resolved"
            f" FROM {self.s}.cases WHERE {where}",
            *args,
        )
        return {
            "needs": row["needs"],
            "resolved_at_first_contact": row["resolved"],
            "percent": percent(row["resolved"], row["needs"]),
        }

    async def channel_mix(self) -> dict[str, Any]:
        where, args = self._where("received_at", area=None)
        rows = await self.c.fetch(
            f"""SELECT channel, bool_or(self_service) AS self_service, count(*) AS contacts FROM {self.s}.contacts
                WHERE {where} GROUP BY channel ORDER BY channel""",
            *args,
        )
        total = sum(r["contacts"] for r in rows)
        self_service = sum(r["contacts"] for r in rows if r["self_service"])
        month, month_args = self._month("received_at", args)
        months = await self.c.fetch(
            f"""SELECT {month} AS month, count(*) AS contacts, count(*) FILTER (WHERE self_service) AS self_service
                FROM {self.s}.contacts WHERE {where} GROUP BY 1 ORDER BY 1""",
            *month_args,
        )
        return {
            "contacts": total,
            "by_channel": {r["channel"]: r["contacts"] for r in rows},
            "self_service": self_service,
            "self_service_percent": percent(self_service, total),
            "by_month": {
                r["month"]: {
                    "contacts": r["contacts"],
                    "self_service_percent": percent(r["self_service"], r["contacts"]),
                }
                for r in months
            },
        }

    async def telephone(self) -> dict[str, Any]:
        where, args = self._where("COALESCE(offered_at, answered_at, abandoned_at)", area=None, channel=None)
        row = await self._one(
            f"""SELECT count(*) AS offered, count(answered_at) AS answered, count(abandoned_at) AS abandoned,
                    count(*) FILTER (WHERE answered_at IS NOT NULL AND wait_seconds <= 20) AS within_20s,
                    avg(wait_seconds) FILTER (WHERE answered_at IS NOT NULL) AS speed_of_answer
                FROM {self.s}.calls WHERE {where}""",
            *args,
        )
        asa = row["speed_of_answer"]
        return {
            "offered": row["offered"],
            "answered": row["answered"],
            "abandoned": row["abandoned"],
            "abandonment_percent": percent(row["abandoned"], row["offered"]),
            "answered_within_20s_percent": percent(row["within_20s"], row["answered"]),
            "average_speed_of_answer_seconds": round(float(asa), 1) if asa is not None else None,
        }

    async def face_to_face(self) -> dict[str, Any]:
        where, args = self._where("served_at", area=None, channel=None)
        row = await self._one(
            f"""SELECT count(*) AS served, avg(wait_seconds) AS average, max(wait_seconds) AS longest,
                    count(*) FILTER (WHERE booked) AS booked,
                    count(*) FILTER (WHERE booked AND wait_seconds <= 600) AS booked_within_10_minutes
                FROM {self.s}.tickets WHERE {where}""",
            *args,
        )
        return {
            "served": row["served"],
            "average_wait_seconds": round(float(row["average"]), 1) if row["average"] is not None else None,
            "longest_wait_seconds": row["longest"],
            "booked": row["booked"],
            "booked_seen_within_10_minutes_percent": percent(row["booked_within_10_minutes"], row["booked"]),
        }

    async def written_replies(self, target_days: float = 10.0) -> dict[str, Any]:
        """Replied within target = first reply within `target_days` (24 hours each) of receipt ÷ written
        contacts replied to or whose time is up: one never replied to has missed the target once it is."""
        where, args = self._where("k.received_at", area=None, channel=None)
        rows = await self.c.fetch(
            f"""SELECT k.contact_id, k.received_at,
                    (SELECT min(n.sent_at) FROM {self.s}.cases c
                     JOIN {self.s}.notifications_sent n ON n.case_id = c.case_id
                     WHERE c.contact_id = k.contact_id) AS replied_at
                FROM {self.s}.contacts k WHERE k.channel IN ('email', 'post') AND {where}""",
            *args,
        )
        hours = sorted((r["replied_at"] - r["received_at"]).total_seconds() / 3600 for r in rows if r["replied_at"])
        within = sum(1 for h in hours if h <= target_days * 24)
        # One still unanswered whose time is not yet up has neither met nor missed the target.
        target = timedelta(days=target_days)
        judged = sum(1 for r in rows if r["replied_at"] or r["received_at"] + target <= self.now)
        return {
            "written_contacts": len(rows),
            "replied": len(hours),
            "replied_within_target": within,
            "replied_within_target_percent": percent(within, judged),
            "target_days": target_days,
            "average_hours_to_reply": round(sum(hours) / len(hours), 1) if hours else None,
            "median_hours_to_reply": round(hours[len(hours) // 2], 1) if hours else None,
        }

    async def sla_compliance(self) -> dict[str, Any]:
        """Only cases that had a due time: one resolved at first contact had no standard to meet."""
        where, args = self._where("closed_at")
        rows = await self.c.fetch(
            f"""SELECT service_area, count(*) AS closed, count(*) FILTER (WHERE within_sla) AS within
                FROM {self.s}.cases WHERE sla_due_at IS NOT NULL AND within_sla IS NOT NULL AND {where}
                GROUP BY 1 ORDER BY 1""",
            *args,
        )
        closed, within = sum(r["closed"] for r in rows), sum(r["within"] for r in rows)
        return {
            "closed": closed,
            "within_standard": within,
            "percent": percent(within, closed),
            "by_service_area": {
                r["service_area"]: {
                    "closed": r["closed"],
                    "within_standard": r["within"],
                    "percent": percent(r["within"], r["closed"]),
                }
                for r in rows
            },
        }

    async def open_cases_by_age(self) -> dict[str, Any]:
        """Open at the end of the period, or now if the period is not over, by how long they had been open
        then."""
        args: list[Any] = [min(self.f.end, self.now)]
        area = ""
        if self.f.service_area:
            args.append(self.f.service_area)
            area = "AND service_area = $2"
        rows = await self.c.fetch(
            f"""SELECT floor(extract(epoch FROM ($1 - raised_at)) / 86400)::int AS days FROM {self.s}.cases
                WHERE raised_at < $1 AND (closed_at IS NULL OR closed_at >= $1) {area}""",
            *args,
        )
        bands = {
            label: sum(1 for r in rows if r["days"] >= low and (high is None or r["days"] <= high))
            for label, low, high in AGE_BANDS
        }
        return {"as_of": args[0], "open": len(rows), "bands": bands}

    async def complaints(self) -> dict[str, Any]:
        where, args = self._where("s.started_at", area="c.service_area", channel="c.channel")
        rows = await self.c.fetch(
            f"""SELECT s.stage, c.outcome, c.closed_at, s.due_at FROM {self.s}.complaint_stages s
                JOIN {self.s}.cases c USING (case_id) WHERE {where}""",
            *args,
        )
        by_stage: dict[str, dict[str, int]] = {}
        for row in rows:
            stage = by_stage.setdefault(row["stage"], {"started": 0, "on_time": 0, "late": 0, "open": 0})
            stage["started"] += 1
            if row["closed_at"] is None:
                stage["open"] += 1
            elif row["due_at"] is None or row["closed_at"] <= row["due_at"]:
                stage["on_time"] += 1
            else:
                stage["late"] += 1
        outcomes: dict[str, int] = {}
        for row in rows:
            outcomes[row["outcome"] or "open"] = outcomes.get(row["outcome"] or "open", 0) + 1
        return {"by_stage": by_stage, "by_outcome": outcomes}

    async def satisfaction(self) -> dict[str, Any]:
        where, args = self._where("received_at", channel=None)
        row = await self._one(
            f"""SELECT count(*) AS answers, count(*) FILTER (WHERE satisfied) AS satisfied, avg(score) AS score
                FROM {self.s}.feedback WHERE {where}""",
            *args,
        )
        return {
            "answers": row["answers"],
            "satisfied": row["satisfied"],
            "percent": percent(row["satisfied"], row["answers"]),
            "average_score": round(float(row["score"]), 2) if row["score"] is not None else None,
        }

    async def reasons_for_contact(self) -> dict[str, Any]:
        """Needs by the service they were settled on (the one routing read from an email's text, triage
        chose, or the case a chaser named), else the one they came with; unclassified while in triage."""
        where, args = self._where("n.received_at", area=None, channel="n.channel")
        month, args = self._month("n.received_at", args)
        rows = await self.c.fetch(
            f"""SELECT {month} AS month, COALESCE(a.service_code, n.service_code, 'unclassified') AS code,
                    count(*) AS needs
                FROM {self.s}.needs n LEFT JOIN {self.s}.assessments a USING (contact_id, need_id)
                WHERE {where} GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2""",
            *args,
        )
        where_a, args_a = self._where("COALESCE(received_at, assessed_at)")
        month, args_a = self._month("COALESCE(received_at, assessed_at)", args_a)
        repeats = await self.c.fetch(
            f"""SELECT {month} AS month, count(*) AS repeats
                FROM {self.s}.assessments WHERE category = 'repeat_contact' AND {where_a} GROUP BY 1 ORDER BY 1""",
            *args_a,
        )
        by_month: dict[str, dict[str, int]] = {}
        for row in rows:
            by_month.setdefault(row["month"], {})[row["code"]] = row["needs"]
        return {"by_month": by_month, "repeat_contacts_by_month": {r["month"]: r["repeats"] for r in repeats}}

    async def reopened_cases(self) -> dict[str, Any]:
        """Closed cases reopened in the period (the closure had not put things right), by service area."""
        where, args = self._where("r.reopened_at", area="c.service_area", channel="c.channel")
        rows = await self.c.fetch(
            f"""SELECT c.service_area, count(*) AS reopenings, count(DISTINCT r.case_id) AS cases
                FROM {self.s}.reopenings r JOIN {self.s}.cases c USING (case_id) WHERE {where}
                GROUP BY 1 ORDER BY 1""",
            *args,
        )
        return {
            "reopenings": sum(r["reopenings"] for r in rows),
            "cases": sum(r["cases"] for r in rows),
            "by_service_area": {r["service_area"]: r["reopenings"] for r in rows},
        }

    async def hand_off_models(self) -> dict[str, Any]:
        """Cases raised in the period by the model they were handed over under: how many were resolved (at
        first contact, or later), and how many the customer had to contact the council about again."""
        where, args = self._where("c.raised_at", area="c.service_area", channel="c.channel")
        rows = await self.c.fetch(
            f"""SELECT h.hand_off_model AS model, count(*) AS cases,
                    count(*) FILTER (WHERE c.first_contact) AS resolved_at_first_contact,
                    count(*) FILTER (WHERE c.outcome = 'resolved') AS resolved,
                    count(*) FILTER (WHERE EXISTS (
                        SELECT 1 FROM {self.s}.assessments a WHERE a.related_case_id = c.case_id AND a.avoidable
                    )) AS recontacted
                FROM {self.s}.cases c JOIN {self.s}.hand_off_models h USING (case_id) WHERE {where}
                GROUP BY 1""",
            *args,
        )
        found = {r["model"]: r for r in rows}
        by_model = {}
        for model in (*HAND_OFF_MODELS, *sorted(set(found) - set(HAND_OFF_MODELS))):
            r = found.get(model)
            cases = r["cases"] if r else 0
            resolved = r["resolved"] if r else 0
            recontacted = r["recontacted"] if r else 0
            by_model[model] = {
                "cases": cases,
                "resolved_at_first_contact": r["resolved_at_first_contact"] if r else 0,
                "resolved": resolved,
                "resolution_percent": percent(resolved, cases),
                "recontacted": recontacted,
                "recontact_percent": percent(recontacted, cases),
            }
        return {"by_model": by_model}

    async def trends(self) -> dict[str, Any]:
        """NI14, first-contact resolution, self-service share and satisfaction, month by month for the twelve
        council months up to the period's, each beside the same month a year before; same filters."""
        last = self.f.start.astimezone(self.f.zone)
        labels = [_month_label(last.year, last.month - back) for back in range(23, -1, -1)]
        window = Measures(
            self.c,
            self.s,
            Filter(
                council_month(labels[0], self.f.zone)[0],
                council_month(labels[-1], self.f.zone)[1],
                self.f.service_area,
                self.f.channel,
                self.f.zone,
            ),
            self.now,
        )
        counted = {
            "avoidable_contact_percent": await window._monthly(
                "assessments", "COALESCE(received_at, assessed_at)", "avoidable"
            ),
            "first_contact_resolution_percent": await window._monthly("cases", "raised_at", "first_contact"),
            "self_service_percent": await window._monthly("contacts", "received_at", "self_service", area=None),
            "satisfaction_percent": await window._monthly("feedback", "received_at", "satisfied", channel=None),
        }
        return {
            "months": labels[12:],
            "series": {
                name: {
                    month: {"value": by_month.get(month), "year_before": by_month.get(year_before)}
                    for year_before, month in zip(labels[:12], labels[12:], strict=True)
                }
                for name, by_month in counted.items()
            },
        }

    async def _monthly(
        self, table: str, time: str, counted: str, area: str | None = "service_area", channel: str | None = "channel"
    ) -> dict[str, float | None]:
        """Per council month: the share of rows of `table` for which the boolean column `counted` holds."""
        where, args = self._where(time, area=area, channel=channel)
        month, args = self._month(time, args)
        rows = await self.c.fetch(
            f"""SELECT {month} AS month, count(*) AS whole, count(*) FILTER (WHERE {counted}) AS part
                FROM {self.s}.{table} WHERE {where} GROUP BY 1""",
            *args,
        )
        return {r["month"]: percent(r["part"], r["whole"]) for r in rows}

    async def by_channel(self) -> dict[str, Any]:
        """Performance split by channel, as councils publish it: contacts, NI14 and first-contact resolution."""
        where, args = self._where("received_at", channel=None, area=None)
        contacts = {
            r["channel"]: r["contacts"]
            for r in await self.c.fetch(
                f"SELECT channel, count(*) AS contacts FROM {self.s}.contacts WHERE {where} GROUP BY 1", *args
            )
        }
        where, args = self._where("COALESCE(received_at, assessed_at)", channel=None)
        ni14 = {
            r["channel"]: percent(r["avoidable"], r["needs"])
            for r in await self.c.fetch(
                f"""SELECT channel, count(*) AS needs, count(*) FILTER (WHERE avoidable) AS avoidable
                    FROM {self.s}.assessments WHERE {where} GROUP BY 1""",
                *args,
            )
        }
        where, args = self._where("raised_at", channel=None)
        fcr = {
            r["channel"]: percent(r["resolved"], r["cases"])
            for r in await self.c.fetch(
                f"""SELECT channel, count(*) AS cases, count(*) FILTER (WHERE first_contact) AS resolved
                    FROM {self.s}.cases WHERE {where} GROUP BY 1""",
                *args,
            )
        }
        channels = sorted(set(contacts) | set(ni14) | set(fcr))
        if self.f.channel:
            channels = [c for c in channels if c == self.f.channel]
        return {
            channel: {
                "contacts": contacts.get(channel, 0),
                "avoidable_contact_percent": ni14.get(channel),
                "first_contact_resolution_percent": fcr.get(channel),
            }
            for channel in channels
        }

    async def duplicates_absorbed(self) -> dict[str, Any]:
        """Filed by when the report came in (its contact's time)."""
        where, args = self._where("COALESCE(received_at, linked_at)", area=None, channel=None)
        return {
            "reports_linked": await self.c.fetchval(f"SELECT count(*) FROM {self.s}.duplicates WHERE {where}", *args)
        }

    async def all(self, targets: Targets) -> dict[str, Any]:
        figures = {
            "avoidable_contact": await self.avoidable_contact(),
            "first_contact_resolution": await self.first_contact_resolution(),
            "channel_mix": await self.channel_mix(),
            "telephone": await self.telephone(),
            "face_to_face": await self.face_to_face(),
            "written_replies": await self.written_replies(targets.written_reply_max_days),
            "sla_compliance": await self.sla_compliance(),
            "open_cases_by_age": await self.open_cases_by_age(),
            "complaints": await self.complaints(),
            "satisfaction": await self.satisfaction(),
            "reasons_for_contact": await self.reasons_for_contact(),
            "duplicates_absorbed": await self.duplicates_absorbed(),
            "hand_off_models": await self.hand_off_models(),
            "reopened_cases": await self.reopened_cases(),
            "by_channel": await self.by_channel(),
            "trends": await self.trends(),
        }
        return {
            "period": {
                "start": self.f.start,
                "end": self.f.end,
                "service_area": self.f.service_area,
                "channel": self.f.channel,
                "time_zone": self.f.zone.key,
            },
            "targets": targets.model_dump(),
            "measures": figures,
        }

    async def avoidable_contacts_behind(self, category: str | None, limit: int = 200) -> list[dict[str, Any]]:
        """The drill-down from NI14: the contacts counted as avoidable."""
        where, args = self._where("COALESCE(received_at, assessed_at)")
        if category:
            args.append(category)
            where += f" AND category = ${len(args)}"
        rows = await self.c.fetch(
            f"""SELECT contact_id, need_id, COALESCE(received_at, assessed_at) AS received_at, channel, service_area,
                    category, explanation FROM {self.s}.assessments WHERE avoidable AND {where}
                ORDER BY 3 DESC LIMIT {int(limit)}""",
            *args,
        )
        # Shown on the council's clock.
        return [dict(r) | {"received_at": r["received_at"].astimezone(self.f.zone)} for r in rows]
