"""The API commands already applied, so a command sent again with its id is never applied twice."""

from collections.abc import Sequence
from uuid import UUID

from onestop.servicekit.database import Connection


class CommandLog:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def applied(self, command_id: UUID) -> bool:
        done = await self.connection.fetchval("SELECT 1 FROM processed_commands WHERE command_id = $1", command_id)
        return done is not None

    async def record(self, command_id: UUID, case_id: UUID, event_ids: Sequence[UUID]) -> None:
        await self.connection.execute(
            "INSERT INTO processed_commands (command_id, case_id, event_ids) VALUES ($1, $2, $3)",
            command_id,
            case_id,
            list(event_ids),
        )
