"""Duplicate reports linked to a case that has not been raised here yet, kept until it is."""

import json
from collections.abc import Collection
from typing import Any
from uuid import UUID

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts.events.routing import DuplicateReportLinked
from onestop.servicekit.database import Connection


class PendingLinks:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # Cases whose links this transaction has locked and taken already, with the links kept since.
        self._taken: dict[UUID, list[DuplicateReportLinked]] = {}

    async def lock(self, case_id: UUID) -> None:
        """Serialise keeping a link for `case_id` with raising that case (until the transaction ends), so a
        case raised by another instance at the same moment either is seen by the link or sees it."""
        if case_id in self._taken:
            return  # locked already, until the transaction ends
        await self.connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))", case_id)

    async def take_ahead(self, case_ids: Collection[UUID]) -> None:
        """Lock and take the links of cases a batch is about to raise, in two round trips for them all."""
        wanted = sorted(set(case_ids) - self._taken.keys())
        if not wanted:
            return
        await self.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(id::text, 0)) FROM unnest($1::uuid[]) AS id", wanted
        )
        rows = await self.connection.fetch(
            "DELETE FROM pending_links WHERE case_id = ANY($1::uuid[]) RETURNING case_id, event, headers", wanted
        )
        self._taken.update({case_id: [] for case_id in wanted})
        for row in rows:
            self._taken[row["case_id"]].append(_link(row))

    async def keep(self, envelope: EventEnvelope) -> None:
        """Keep a DuplicateReportLinked (as it travelled) until its case is raised."""
        link = envelope.data
        assert isinstance(link, DuplicateReportLinked)
        if link.case_id in self._taken:
            self._taken[link.case_id].append(link)  # its case is raised later in this batch, which takes it
            return
        record = encode_envelope(envelope)
        await self.connection.execute(
            "INSERT INTO pending_links (case_id, contact_id, event, headers) VALUES ($1, $2, $3, $4::jsonb)"
            " ON CONFLICT DO NOTHING",
            link.case_id,
            link.contact_id,
            record.value,
            json.dumps(record.headers_dict()),
        )

    async def take(self, case_id: UUID) -> list[DuplicateReportLinked]:
        """The links kept for `case_id`, removed from keeping."""
        if case_id in self._taken:
            links, self._taken[case_id] = self._taken[case_id], []
            return links
        await self.lock(case_id)
        rows = await self.connection.fetch(
            "DELETE FROM pending_links WHERE case_id = $1 RETURNING event, headers", case_id
        )
        return [_link(row) for row in rows]


def _link(row: Any) -> DuplicateReportLinked:
    link = decode_record(row["event"], json.loads(row["headers"])).data
    assert isinstance(link, DuplicateReportLinked)
    return link
