"""Working days with UK bank holidays and opening hours."""

from datetime import UTC, datetime

from onestop.cases.domain.sla import WorkingCalendar

calendar = WorkingCalendar()


def test_three_working_days_from_a_monday_morning_is_thursday_close_of_business() -> None:
    due = calendar.due_by(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), 3)
    assert due == datetime(2026, 3, 5, 17, 0, tzinfo=UTC)  # GMT in March


def test_a_request_after_closing_time_starts_the_next_working_day() -> None:
    due = calendar.due_by(datetime(2026, 3, 2, 17, 30, tzinfo=UTC), 1)
    assert due == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


def test_weekends_and_bank_holidays_do_not_count() -> None:
    # Friday 22 May 2026; Monday 25 May is the spring bank holiday.
    due = calendar.due_by(datetime(2026, 5, 22, 9, 30, tzinfo=UTC), 1)
    assert due == datetime(2026, 5, 26, 16, 0, tzinfo=UTC)  # 17:00 BST


def test_christmas_and_boxing_day_are_skipped() -> None:
    due = calendar.due_by(datetime(2026, 12, 24, 10, 0, tzinfo=UTC), 1)
    assert due == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)


def test_zero_days_means_by_the_end_of_today() -> None:
    assert calendar.due_by(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), 0) == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
