"""Writes held back until the unit of work commits, then sent one round trip per statement.

A batch of events runs the same few statements once per event (insert the case, update its summary,
index it...). Sent as they come, each is a round trip to PostgreSQL, and a round trip costs more CPU, on
both sides, than the statement itself. Held back and sent as one `executemany` per statement, a batch of
fifty events costs the round trips of one.

Holding statements back may reorder them, so each one names the key of what it changes (a case, a
customer). Statements on one key run in the order they were added; statements on different keys are
taken to change different rows, and a statement with no key changes anything, so nothing moves past it.
Whoever reads what a buffered statement writes, in the same transaction, must `flush` first.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from onestop.servicekit.database import Connection

_EVERY_KEY = object()


@dataclass
class _Group:
    sql: str
    rows: list[Sequence[object]] = field(default_factory=list)


class WriteBuffer:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._groups: list[_Group] = []
        self._last_group_of_sql: dict[str, int] = {}
        self._last_group_of_key: dict[object, int] = {}
        self._last_barrier = -1  # the last group holding a statement with no key

    def add(self, sql: str, *args: object, key: Hashable | None) -> None:
        """Run `sql` with `args` at the next flush, after every earlier statement on `key` (None: every key)."""
        if key is None:
            must_follow = len(self._groups) - 1
        else:
            must_follow = max(self._last_group_of_key.get(key, -1), self._last_barrier)
        same = self._last_group_of_sql.get(sql, -1)
        if same >= 0 and same >= must_follow:
            index = same  # joins the statement's group: nothing after that group touches this key
        else:
            index = len(self._groups)
            self._groups.append(_Group(sql))
            self._last_group_of_sql[sql] = index
        self._groups[index].rows.append(args)
        if key is None:
            self._last_barrier = index
        else:
            self._last_group_of_key[key] = max(index, self._last_group_of_key.get(key, -1))

    def __len__(self) -> int:
        return sum(len(group.rows) for group in self._groups)

    async def flush(self) -> None:
        """Send what is held, in order. Emptied first: a statement that fails is not sent again."""
        groups = self._groups
        self.discard()
        for group in groups:
            if len(group.rows) == 1:
                await self.connection.execute(group.sql, *group.rows[0])
            else:
                await self.connection.executemany(group.sql, group.rows)

    def discard(self) -> None:
        self._groups = []
        self._last_group_of_sql = {}
        self._last_group_of_key = {}
        self._last_barrier = -1
