-- The cases routing knows of: raised by its own decisions (at once) and confirmed from the cases topic.
CREATE TABLE known_cases (
    case_id      uuid        PRIMARY KEY,
    reference    text        NOT NULL UNIQUE,
    contact_id   uuid        NOT NULL,
    need_id      uuid        NOT NULL,
    customer_id  uuid,
    service_code text        NOT NULL,
    service_area text        NOT NULL,
    kind         text        NOT NULL,
    channel      text        NOT NULL,
    opened_at    timestamptz NOT NULL,
    closed_at    timestamptz,
    latitude     double precision,
    longitude    double precision,
    uprn         text,
    usrn         text
);
CREATE INDEX known_cases_service_open ON known_cases (service_code, opened_at) WHERE closed_at IS NULL;
CREATE INDEX known_cases_customer ON known_cases (customer_id, service_code);

-- Needs waiting for a person to choose their service.
CREATE TABLE triage_queue (
    contact_id   uuid        NOT NULL,
    need_id      uuid        NOT NULL,
    event        bytea       NOT NULL,
    headers      jsonb       NOT NULL,
    reason       text        NOT NULL,
    best_guess   text,
    confidence   double precision,
    queued_at    timestamptz NOT NULL,
    PRIMARY KEY (contact_id, need_id)
);

-- The rules versions this service has published.
CREATE TABLE published_rules (
    checksum     text        PRIMARY KEY,
    version      text        NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);
