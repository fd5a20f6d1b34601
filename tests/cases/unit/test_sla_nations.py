"""Each nation's working-day calendar, and a council's own closure days."""

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from onestop.cases.domain.sla import OMBUDSMEN, Nation, WorkingCalendar, closure_days
from onestop.cases.settings import CasesSettings

ENGLAND = WorkingCalendar.for_council(Nation.ENGLAND)
WALES = WorkingCalendar.for_council(Nation.WALES)
SCOTLAND = WorkingCalendar.for_council(Nation.SCOTLAND)
NORTHERN_IRELAND = WorkingCalendar.for_council(Nation.NORTHERN_IRELAND)


def test_england_and_wales_share_their_bank_holidays() -> None:
    easter_monday = date(2026, 4, 6)
    assert not ENGLAND.is_working_day(easter_monday)
    assert not WALES.is_working_day(easter_monday)
    assert ENGLAND.is_working_day(date(2026, 1, 2)) and WALES.is_working_day(date(2026, 1, 2))


def test_scotland_has_its_own_bank_holidays_and_works_on_easter_monday() -> None:
    assert not SCOTLAND.is_working_day(date(2026, 1, 2))  # 2 January
    assert not SCOTLAND.is_working_day(date(2026, 8, 3))  # the first Monday of August
    assert not SCOTLAND.is_working_day(date(2026, 11, 30))  # St Andrew's Day
    assert SCOTLAND.is_working_day(date(2026, 4, 6))  # Easter Monday is not a Scottish bank holiday
    assert SCOTLAND.is_working_day(date(2026, 8, 31))  # nor England's late summer one


def test_northern_ireland_keeps_st_patricks_day_and_the_twelfth() -> None:
    assert not NORTHERN_IRELAND.is_working_day(date(2026, 3, 17))
    assert not NORTHERN_IRELAND.is_working_day(date(2026, 7, 13))  # the Twelfth, on a Sunday, kept on Monday
    assert ENGLAND.is_working_day(date(2026, 3, 17))


def test_a_scottish_council_counts_past_the_new_year_holiday() -> None:
    # Wednesday 31 December 2025: 1 and 2 January are holidays in Scotland, only 1 January in England.
    received = datetime(2025, 12, 31, 10, 0, tzinfo=UTC)
    assert ENGLAND.due_by(received, 1) == datetime(2026, 1, 2, 17, 0, tzinfo=UTC)
    assert SCOTLAND.due_by(received, 1) == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def test_local_closure_days_are_not_working_days() -> None:
    closures = closure_days("2026-12-29, 2026-12-30,2026-12-31")
    calendar = WorkingCalendar.for_council(Nation.ENGLAND, closures)
    # Thursday 24 December: Christmas, Boxing Day (kept on the 28th) and the closure take it to the new year.
    due = calendar.due_by(datetime(2026, 12, 24, 10, 0, tzinfo=UTC), 1)
    assert due == datetime(2027, 1, 4, 17, 0, tzinfo=UTC)
    assert ENGLAND.due_by(datetime(2026, 12, 24, 10, 0, tzinfo=UTC), 1) == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)


def test_each_nation_has_its_ombudsman() -> None:
    assert OMBUDSMEN == {
        Nation.ENGLAND: "LGSCO",
        Nation.WALES: "PSOW",
        Nation.SCOTLAND: "SPSO",
        Nation.NORTHERN_IRELAND: "NIPSO",
    }


def test_the_nation_and_closure_days_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNCIL_NATION", "scotland")
    monkeypatch.setenv("COUNCIL_CLOSURE_DAYS", "2026-12-29,2026-12-30")
    settings = CasesSettings()
    assert settings.council_nation is Nation.SCOTLAND
    assert settings.closures == {date(2026, 12, 29), date(2026, 12, 30)}


def test_a_closure_day_that_is_not_a_date_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNCIL_CLOSURE_DAYS", "29/12/2026")
    with pytest.raises(ValidationError, match="ISO dates"):
        CasesSettings()
    monkeypatch.setenv("COUNCIL_CLOSURE_DAYS", "")
    monkeypatch.setenv("COUNCIL_NATION", "atlantis")
    with pytest.raises(ValidationError):
        CasesSettings()
