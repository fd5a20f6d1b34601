"""The staff search's reads: cases by reference (whole or its beginning) or by blind index terms, newest first,
within the caller's service areas, a page at a time.

A search by terms walks the rows of its rarest term in the index's order (newest first) and keeps a case only
when it has every other term too, each checked by one index lookup; so a page costs about as many lookups as
it shows, however many cases hold a common word. The total is counted within the first `COUNT_LIMIT` cases of
the rarest term: exact below that, a lower bound above it (enough to say "refine your search" without
counting a million rows).
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from onestop.cases.domain.search_terms import BlindIndex, SearchQuery
from onestop.servicekit.database import Connection

COUNT_LIMIT = 1000
# How far each term's cases are counted to find the rarest: far enough to tell a surname from a common word.
RARITY_LIMIT = 20_000
RESULT_COLUMNS = (
    "case_id, reference, status, kind, channel, service_code, service_area, team, owner, hand_off_model,"
    " priority, customer_id, raised_at, sla_due_at, closed_at"
)


@dataclass(frozen=True)
class Found:
    total: int  # up to COUNT_LIMIT
    total_is_exact: bool
    cases: list[dict[str, Any]]


async def search(
    connection: Connection,
    index: BlindIndex,
    query: SearchQuery,
    *,
    within_areas: Collection[str] | None,
    limit: int,
    offset: int,
) -> Found:
    areas = None if within_areas is None else list(within_areas)
    if query.reference_prefix is not None:
        return await _by_reference(connection, query.reference_prefix, areas, limit, offset)
    if not query.tokens:
        return Found(0, True, [])
    return await _by_terms(connection, index.terms(query.tokens), areas, limit, offset)


async def _by_reference(connection: Connection, prefix: str, areas: list[str] | None, limit: int, offset: int) -> Found:
    # A reference holds only letters, digits and hyphens (checked when the query was read): no LIKE wildcards.
    where = """(reference LIKE $1 || '%' OR case_id = (SELECT case_id FROM linked_reports WHERE reference = $1))
               AND ($2::text[] IS NULL OR service_area = ANY($2::text[]))"""
    total = await connection.fetchval(
        f"SELECT count(*) FROM (SELECT 1 FROM case_summary WHERE {where} LIMIT $3) AS found",
        prefix,
        areas,
        COUNT_LIMIT,
    )
    rows = await connection.fetch(
        f"""SELECT {RESULT_COLUMNS} FROM case_summary WHERE {where}
            ORDER BY raised_at DESC, case_id DESC LIMIT $3 OFFSET $4""",
        prefix,
        areas,
        limit,
        offset,
    )
    return Found(total, total < COUNT_LIMIT, [dict(row) for row in rows])


# A row `d` of the driving term is a match when it lies in the caller's areas ($2) and its case holds every
# other term ($3) too: one index lookup per row.
_MATCHING = """($2::text[] IS NULL OR d.service_area = ANY($2::text[]))
      AND (cardinality($3::bigint[]) = 0
           OR (SELECT count(*) FROM search_terms o
               WHERE o.term = ANY($3::bigint[]) AND o.raised_at = d.raised_at AND o.case_id = d.case_id)
              = cardinality($3::bigint[]))"""


async def _by_terms(
    connection: Connection, terms: list[int], areas: list[str] | None, limit: int, offset: int
) -> Found:
    # How many cases hold each term, counted no further than needed to tell which is rarest.
    counts = await connection.fetch(
        """SELECT term, (SELECT count(*) FROM (SELECT 1 FROM search_terms s WHERE s.term = t.term LIMIT $2) c) AS n
           FROM unnest($1::bigint[]) AS t(term) ORDER BY n""",
        terms,
        RARITY_LIMIT,
    )
    if not counts or counts[0]["n"] == 0:
        return Found(0, True, [])
    driver, others = counts[0]["term"], [row["term"] for row in counts[1:]]
    # The total is counted among the driving term's first COUNT_LIMIT cases at most: exact when it has no more,
    # else a lower bound, so that counting never costs more than COUNT_LIMIT lookups.
    total = await connection.fetchval(
        f"""SELECT count(*) FROM (SELECT case_id, raised_at, service_area FROM search_terms WHERE term = $1
                                  ORDER BY raised_at DESC, case_id DESC LIMIT $4) AS d
            WHERE {_MATCHING}""",
        driver,
        areas,
        others,
        COUNT_LIMIT,
    )
    rows = await connection.fetch(
        f"""SELECT {RESULT_COLUMNS} FROM (
                SELECT d.case_id, d.raised_at AS indexed_at FROM search_terms d WHERE d.term = $1 AND {_MATCHING}
                ORDER BY d.raised_at DESC, d.case_id DESC LIMIT $4 OFFSET $5) m
            JOIN case_summary s USING (case_id) ORDER BY m.indexed_at DESC, m.case_id DESC""",
        driver,
        areas,
        others,
        limit,
        offset,
    )
    exact = counts[0]["n"] < COUNT_LIMIT
    return Found(max(total, offset + len(rows)), exact, [dict(row) for row in rows])
