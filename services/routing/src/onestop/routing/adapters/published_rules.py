"""The published-rules table: each version of the rules this service has announced, by its checksum."""

from typing import Protocol

from onestop.servicekit.database import Connection


class PublishedRules(Protocol):
    async def add(self, checksum: str, version: str) -> bool:
        """Record the rules as published; False when this checksum was published before."""


class PostgresPublishedRules:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def add(self, checksum: str, version: str) -> bool:
        inserted = await self.connection.fetchval(
            "INSERT INTO published_rules (checksum, version) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            checksum,
            version,
        )
        return bool(inserted)
