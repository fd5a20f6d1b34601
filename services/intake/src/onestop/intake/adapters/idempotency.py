"""Idempotency records: the first answer to a request, replayed to its retries."""

import json
from dataclasses import dataclass
from typing import Any

from onestop.servicekit.database import Connection


@dataclass(frozen=True)
class EarlierAnswer:
    request_hash: str
    status_code: int
    body: dict[str, Any]


class IdempotencyRecords:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def claim(self, client: str, key: str) -> EarlierAnswer | None:
        """Hold (client, key) until the transaction ends, so concurrent retries queue behind the first; then
        the answer it already has, if any."""
        await self.connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{client}:{key}")
        row = await self.connection.fetchrow(
            "SELECT request_hash, status_code, response FROM idempotency_keys WHERE client = $1 AND key = $2",
            client,
            key,
        )
        if row is None:
            return None
        return EarlierAnswer(row["request_hash"], row["status_code"], json.loads(row["response"]))

    async def remember(self, client: str, key: str, request_hash: str, status_code: int, body: dict[str, Any]) -> None:
        await self.connection.execute(
            "INSERT INTO idempotency_keys (client, key, request_hash, status_code, response)"
            " VALUES ($1, $2, $3, $4, $5::jsonb)",
            client,
            key,
            request_hash,
            status_code,
            json.dumps(body, default=str),
        )
