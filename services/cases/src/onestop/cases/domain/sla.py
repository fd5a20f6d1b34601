"""Service-level time: working days with the nation's bank holidays, local closures and opening hours,
and escalation ages.

A service standard of N working days means: by the close of business on the Nth working day after the
request arrived (a request after closing time, or on a weekend, bank holiday or closure day, starts the next
working morning). Age escalations count calendar days, as councils' 30- and 60-day rules do.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
AGED_30_DAYS = timedelta(days=30)
AGED_60_DAYS = timedelta(days=60)


class Nation(StrEnum):
    """The nation a council is in: it sets the bank holidays and the ombudsman."""

    ENGLAND = "england"
    WALES = "wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern_ireland"


# England and Wales share their bank holidays; Scotland and Northern Ireland have their own.
BANK_HOLIDAY_REGIONS = {
    Nation.ENGLAND: "ENG",
    Nation.WALES: "WLS",
    Nation.SCOTLAND: "SCT",
    Nation.NORTHERN_IRELAND: "NIR",
}

# Where a complainant goes when the council's own procedure is exhausted.
OMBUDSMEN = {
    Nation.ENGLAND: "LGSCO",  # Local Government and Social Care Ombudsman
    Nation.WALES: "PSOW",  # Public Services Ombudsman for Wales
    Nation.SCOTLAND: "SPSO",  # Scottish Public Services Ombudsman
    Nation.NORTHERN_IRELAND: "NIPSO",  # Northern Ireland Public Services Ombudsman
}


def closure_days(text: str) -> frozenset[date]:
    """Local closure days written as ISO dates separated by commas: '2026-12-24, 2026-12-29'."""
    try:
        return frozenset(date.fromisoformat(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise ValueError(f"closure days must be ISO dates separated by commas: {error}") from None


@dataclass(frozen=True)
class WorkingCalendar:
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    nation: Nation = Nation.ENGLAND
    # The council's own closures, e.g. the days between Christmas and New Year.
    closures: frozenset[date] = frozenset()

    @classmethod
    def for_council(cls, nation: Nation, closures: Iterable[date] = ()) -> "WorkingCalendar":
        return cls(nation=nation, closures=frozenset(closures))

    @cached_property
    def _bank_holidays(self) -> holidays.HolidayBase:
        region = BANK_HOLIDAY_REGIONS[self.nation]
        return holidays.country_holidays("GB", subdiv=region, years=range(2000, 2101))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._bank_holidays and day not in self.closures

    def due_by(self, received: datetime, working_days: int) -> datetime:
        """Close of business on the `working_days`-th working day after `received` (UTC in, UTC out).

        Zero working days means the same working day (or the next, if received out of hours).
        """
        local = received.astimezone(LONDON)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= self.closes:
            day = self._next_working_day(day)
        for _ in range(working_days):
            day = self._next_working_day(day)
        return datetime.combine(day, self.closes, tzinfo=LONDON).astimezone(UTC)

    def _next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day
