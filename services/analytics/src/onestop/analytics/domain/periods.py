"""Periods on the council's clock: a month or a run of days begins and ends at midnight where the council
is, so a web form sent at 00:30 BST on 1 August counts in August, not July."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


class NotAPeriod(ValueError):
    """The period asked for does not exist; the message says why."""


def council_month(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month `YYYY-MM` as [its first midnight, the next month's first midnight) in `zone`."""
    try:
        year, number = (int(part) for part in month.split("-"))
    except ValueError as exc:
        raise NotAPeriod(f"month must look like 2026-03, not {month!r}") from exc
    if not 1 <= number <= 12:
        raise NotAPeriod("month must be between 01 and 12")
    if not 1 <= year < 9999:
        raise NotAPeriod("year must be between 0001 and 9998")
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=zone), datetime(*following, 1, tzinfo=zone)


def council_days(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The days from `start` up to (not including) `end`, midnight to midnight in `zone`."""
    if end <= start:
        raise NotAPeriod("end must be after start")
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def this_month(now: datetime, zone: ZoneInfo) -> str:
    return f"{now.astimezone(zone):%Y-%m}"
