"""Idempotency records: the first answer to a request, replayed to its retries."""

import json
from dataclasses import dataclass
from typing import Any

from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


@dataclass(frozen=True)
class EarlierAnswer:
    request_hash: str
    status_code: int
    body: dict[str, Any]


class IdempotencyRecords:
    """A batch of contacts claims all its keys in two round trips (`claim_ahead`); answers are written with
    the batch's other held-back writes."""

    def __init__(self, connection: Connection, writes: WriteBuffer) -> None:
        self.connection = connection
        self.writes = writes
        self._claimed: dict[tuple[str, str], EarlierAnswer | None] = {}

    async def claim_ahead(self, keys: list[tuple[str, str]]) -> None:
        """Claim every key of a batch: held in one order (two batches taking keys in different orders could
        each wait for the other), then their earlier answers read once all are held."""
        if not keys:
            return
        names = sorted({f"{client}:{key}" for client, key in keys})
        await self.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext(name)) FROM unnest($1::text[]) WITH ORDINALITY AS held(name, n)",
            names,
        )
        rows = await self.connection.fetch(
            """SELECT client, key, request_hash, status_code, response FROM idempotency_keys
               WHERE (client, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
            [client for client, _ in keys],
            [key for _, key in keys],
        )
        self._claimed.update(dict.fromkeys(keys))
        for row in rows:
            self._claimed[(row["client"], row["key"])] = _earlier(row)

    async def claim(self, client: str, key: str) -> EarlierAnswer | None:
        """Hold (client, key) until the transaction ends, so concurrent retries queue behind the first; then
        the answer it already has, if any."""
        if (client, key) in self._claimed:
            return self._claimed[(client, key)]
        await self.connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{client}:{key}")
        row = await self.connection.fetchrow(
            "SELECT request_hash, status_code, response FROM idempotency_keys WHERE client = $1 AND key = $2",
            client,
            key,
        )
        return _earlier(row) if row else None

    async def remember(self, client: str, key: str, request_hash: str, status_code: int, body: dict[str, Any]) -> None:
        self.writes.add(
            "INSERT INTO idempotency_keys (client, key, request_hash, status_code, response)"
            " VALUES ($1, $2, $3, $4, $5::jsonb)",
            client,
            key,
            request_hash,
            status_code,
            json.dumps(body, default=str),
            key=(client, key),
        )


def _earlier(row: Any) -> EarlierAnswer:
    return EarlierAnswer(row["request_hash"], row["status_code"], json.loads(row["response"]))
