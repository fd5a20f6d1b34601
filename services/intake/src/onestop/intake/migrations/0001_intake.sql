-- Customer records for identification (normalised matching keys only, no free text).
CREATE TABLE customers (
    customer_id uuid        PRIMARY KEY,
    email       text,
    phone       text,
    uprn        text,
    name        text,
    postcode    text,
    merged_into uuid,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_email ON customers (email) WHERE merged_into IS NULL;
CREATE INDEX customers_phone ON customers (phone) WHERE merged_into IS NULL;
CREATE INDEX customers_uprn ON customers (uprn) WHERE merged_into IS NULL;
CREATE INDEX customers_name_postcode ON customers (name, postcode) WHERE merged_into IS NULL;

-- Idempotency-Key: the first answer to a request, replayed to its retries.
CREATE TABLE idempotency_keys (
    client       text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status_code  integer     NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client, key)
);

-- Open311 service requests: one per need that came in through Open311, with the status cases report.
CREATE TABLE open311_requests (
    token            uuid        PRIMARY KEY,
    contact_id       uuid        NOT NULL,
    need_id          uuid        NOT NULL UNIQUE,
    case_id          uuid        NOT NULL UNIQUE,
    client           text        NOT NULL,
    service_code     text        NOT NULL,
    service_name     text        NOT NULL,
    description      text,
    address          text,
    lat              double precision,
    long             double precision,
    media_url        text,
    requested_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    service_request_id text UNIQUE,
    status           text        NOT NULL DEFAULT 'open',
    status_notes     text,
    agency           text,
    expected_at      timestamptz
);
CREATE INDEX open311_requests_requested ON open311_requests (requested_at);

-- Attachments that came with email or post, held by reference.
CREATE TABLE attachments (
    attachment_id uuid        PRIMARY KEY,
    media_type    text        NOT NULL,
    filename      text,
    size_bytes    integer     NOT NULL,
    content       bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
