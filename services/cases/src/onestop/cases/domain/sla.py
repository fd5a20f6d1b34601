"""Service-level time: working days with UK bank holidays and opening hours, and escalation ages.

A service standard of N working days means: by the close of business on the Nth working day after the
request arrived (a request after closing time, or on a weekend or bank holiday, starts the next working
morning). Age escalations count calendar days, as councils' 30- and 60-day rules do.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
AGED_30_DAYS = timedelta(days=30)
AGED_60_DAYS = timedelta(days=60)


@dataclass(frozen=True)
class WorkingCalendar:
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    subdivision: str = "ENG"

    @cached_property
    def _bank_holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("GB", subdiv=self.subdivision, years=range(2000, 2101))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._bank_holidays

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
