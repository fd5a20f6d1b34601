-- The event store: every case's events, in order. A case's state is derived only from these rows.
-- `data` holds the event as it travels on Kafka (personal data sealed when encryption is on).
CREATE TABLE events (
    position       bigserial   PRIMARY KEY,
    case_id        uuid        NOT NULL,
    version        integer     NOT NULL,
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    data           bytea       NOT NULL,
    headers        jsonb       NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, version)  -- optimistic concurrency: two writers of one version cannot both win
);

-- Commands already applied, so a retried command never applies twice.
CREATE TABLE processed_commands (
    command_id  uuid        PRIMARY KEY,
    case_id     uuid        NOT NULL,
    event_ids   uuid[]      NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Duplicate reports linked to a case that has not been raised here yet.
CREATE TABLE pending_links (
    case_id    uuid        NOT NULL,
    contact_id uuid        NOT NULL,
    event      bytea       NOT NULL,
    headers    jsonb       NOT NULL,
    PRIMARY KEY (case_id, contact_id)
);
