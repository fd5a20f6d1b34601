"""The write buffer: a batch's statements one round trip per statement, in an order that keeps each key's."""

from collections.abc import Sequence

import pytest

from onestop.servicekit.write_buffer import WriteBuffer


class RecordingConnection:
    """Records the round trips it is asked for: (sql, rows)."""

    def __init__(self) -> None:
        self.round_trips: list[tuple[str, list[tuple[object, ...]]]] = []

    async def execute(self, sql: str, *args: object) -> None:
        self.round_trips.append((sql, [args]))

    async def executemany(self, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        self.round_trips.append((sql, list(rows)))


def buffer() -> tuple[WriteBuffer, RecordingConnection]:
    connection = RecordingConnection()
    return WriteBuffer(connection), connection  # type: ignore[arg-type]


async def test_a_batch_of_cases_costs_one_round_trip_per_statement() -> None:
    writes, connection = buffer()
    for case in ("a", "b", "c"):
        writes.add("INSERT case", case, key=case)
        writes.add("UPDATE case", case, key=case)
    await writes.flush()
    assert connection.round_trips == [
        ("INSERT case", [("a",), ("b",), ("c",)]),
        ("UPDATE case", [("a",), ("b",), ("c",)]),
    ]


async def test_statements_on_one_key_keep_their_order() -> None:
    """Closed, reopened and closed again: the second close may not join the first, or the case ends open."""
    writes, connection = buffer()
    writes.add("CLOSE", "a", key="a")
    writes.add("REOPEN", "a", key="a")
    writes.add("CLOSE", "a", key="a")
    writes.add("CLOSE", "b", key="b")  # another case's close rides with the last one
    await writes.flush()
    assert connection.round_trips == [
        ("CLOSE", [("a",)]),
        ("REOPEN", [("a",)]),
        ("CLOSE", [("a",), ("b",)]),
    ]


async def test_nothing_moves_past_a_statement_without_a_key() -> None:
    writes, connection = buffer()
    writes.add("INSERT contact", "a", key="a")
    writes.add("FORGET customer", "x", key=None)
    writes.add("INSERT contact", "b", key="b")
    writes.add("FORGET customer", "y", key=None)
    await writes.flush()
    assert [sql for sql, _ in connection.round_trips] == [
        "INSERT contact",
        "FORGET customer",
        "INSERT contact",
        "FORGET customer",
    ]


async def test_a_flush_sends_each_statement_once_even_when_one_fails() -> None:
    class Failing(RecordingConnection):
        async def execute(self, sql: str, *args: object) -> None:
            await super().execute(sql, *args)
            raise RuntimeError("refused")

    connection = Failing()
    writes = WriteBuffer(connection)  # type: ignore[arg-type]
    writes.add("INSERT", 1, key=1)
    with pytest.raises(RuntimeError):
        await writes.flush()
    assert len(writes) == 0
    await writes.flush()
    assert len(connection.round_trips) == 1
