-- Read models, rebuilt from the event store (and the contacts topic) by `python -m onestop.cases rebuild`.
CREATE TABLE case_summary (
    case_id         uuid        PRIMARY KEY,
    reference       text        NOT NULL UNIQUE,
    status          text        NOT NULL,
    kind            text        NOT NULL,
    channel         text        NOT NULL,
    service_code    text        NOT NULL,
    service_area    text        NOT NULL,
    team            text,
    owner           text,
    hand_off_model  text,
    priority        text        NOT NULL,
    contact_id      uuid        NOT NULL,
    need_id         uuid        NOT NULL,
    customer_id     uuid,
    ward            text,
    raised_at       timestamptz NOT NULL,
    sla_due_at      timestamptz,
    expected_by     timestamptz,
    closed_at       timestamptz,
    outcome         text,
    public_note     text,
    complaint_stage text,
    complaint_due   timestamptz,
    escalations     text[]      NOT NULL DEFAULT '{}',
    reporters       integer     NOT NULL DEFAULT 0,
    chases          integer     NOT NULL DEFAULT 0,
    version         integer     NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX case_summary_worklist ON case_summary (service_area, team, status, raised_at);
CREATE INDEX case_summary_customer ON case_summary (customer_id);

-- The single customer view: every contact of a customer (their cases come from case_summary).
CREATE TABLE customer_contacts (
    customer_id uuid        NOT NULL,
    contact_id  uuid        NOT NULL,
    channel     text        NOT NULL,
    received_at timestamptz NOT NULL,
    needs       integer     NOT NULL,
    PRIMARY KEY (customer_id, contact_id)
);

-- A merged customer record points at the surviving one.
CREATE TABLE customer_merges (
    merged_id    uuid PRIMARY KEY,
    surviving_id uuid NOT NULL
);
