"""The search index's writes: a raised case's terms added, and a person's terms deleted when they are erased."""

from onestop.cases.domain.search_terms import BlindIndex, tokens_of_case
from onestop.contracts.events.cases import CaseRaised
from onestop.servicekit.write_buffer import WriteBuffer


def add_case(writes: WriteBuffer, index: BlindIndex, raised: CaseRaised) -> None:
    """Index a case from its `CaseRaised`, opened (an erased person's case has nothing to index)."""
    terms = index.terms(tokens_of_case(raised))
    if not terms:
        return
    writes.add(
        """INSERT INTO search_terms (term, raised_at, case_id, data_subject, service_area)
           SELECT term, $2, $3, $4, $5 FROM unnest($1::bigint[]) AS term
           ON CONFLICT DO NOTHING""",
        terms,
        raised.raised_at,
        raised.case_id,
        raised.personal_subject(),
        raised.service_area,
        key=raised.case_id,
    )


def forget(writes: WriteBuffer, data_subject: object) -> None:
    writes.add("DELETE FROM search_terms WHERE data_subject = $1", data_subject, key=None)  # many cases'
