-- The staff search's blind index (see domain/search_terms.py): keyed hashes of a case's words and contact
-- details, never the words. Each row names whose data it came from, so that erasing a person deletes theirs.
-- When the case was raised and its service area (neither personal) sit beside each term, in the index too, so
-- that a search pages newest first and keeps to the caller's areas from the index alone, however common the term.
CREATE TABLE search_terms (
    term         bigint      NOT NULL,
    raised_at    timestamptz NOT NULL,
    case_id      uuid        NOT NULL,
    data_subject uuid        NOT NULL,
    service_area text        NOT NULL,
    PRIMARY KEY (term, raised_at, case_id) INCLUDE (service_area)
);
CREATE INDEX search_terms_subject ON search_terms (data_subject);

-- A reference is searched by its beginning as well as whole.
CREATE INDEX case_summary_reference_prefix ON case_summary (reference text_pattern_ops);
