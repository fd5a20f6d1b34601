"""Months and days on the council's clock, through the clock changes."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from onestop.analytics.domain.periods import NotAPeriod, council_days, council_month, this_month
from onestop.analytics.settings import AnalyticsSettings

LONDON = ZoneInfo("Europe/London")


def test_a_summer_month_starts_at_midnight_bst() -> None:
    start, end = council_month("2026-08", LONDON)
    assert start == datetime(2026, 7, 31, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 8, 31, 23, 0, tzinfo=UTC)


def test_a_web_form_at_half_past_midnight_bst_on_1_august_belongs_to_august() -> None:
    sent = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)  # 00:30 BST on 1 August
    august, july = council_month("2026-08", LONDON), council_month("2026-07", LONDON)
    assert august[0] <= sent < august[1]
    assert not july[0] <= sent < july[1]
    assert this_month(sent, LONDON) == "2026-08"


def test_the_month_of_the_autumn_clock_change_is_an_hour_longer() -> None:
    start, end = council_month("2026-10", LONDON)
    assert (start, end) == (datetime(2026, 9, 30, 23, 0, tzinfo=UTC), datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 31 * 86400 + 3600


def test_december_runs_into_the_next_year() -> None:
    assert council_month("2026-12", LONDON)[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_days_run_midnight_to_midnight_in_the_councils_zone() -> None:
    start, end = council_days(date(2026, 3, 29), date(2026, 3, 30), LONDON)
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 23 * 3600, "the spring clock change"


@pytest.mark.parametrize(
    ("month", "reason"), [("2026-13", "between 01 and 12"), ("0000-01", "year"), ("9999-12", "year")]
)
def test_a_month_that_does_not_exist_is_refused_with_the_reason(month: str, reason: str) -> None:
    with pytest.raises(NotAPeriod, match=reason):
        council_month(month, LONDON)


def test_days_must_run_forwards() -> None:
    with pytest.raises(NotAPeriod, match="end must be after start"):
        council_days(date(2026, 3, 2), date(2026, 3, 1), LONDON)


def test_the_councils_zone_is_a_setting_and_a_zone_that_does_not_exist_is_refused() -> None:
    assert AnalyticsSettings(council_timezone="Europe/Dublin").council_zone == ZoneInfo("Europe/Dublin")
    with pytest.raises(ValidationError, match="COUNCIL_TIMEZONE"):
        AnalyticsSettings(council_timezone="Mars/Olympus_Mons")
