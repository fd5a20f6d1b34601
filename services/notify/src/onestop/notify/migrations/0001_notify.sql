-- Who should hear about each case, learned from the cases and contacts topics.
CREATE TABLE cases (
    case_id        uuid        PRIMARY KEY,
    contact_id     uuid        NOT NULL,
    reference      text        NOT NULL,
    service_code   text        NOT NULL,
    service_area   text        NOT NULL,
    customer_id    uuid,
    customer       jsonb,                   -- contact details the customer gave; dropped on erasure
    ward           text,
    councillor     text,
    sla_due_at     timestamptz,
    outcome        text,
    declined       boolean     NOT NULL DEFAULT false,
    closed_at      timestamptz
);
CREATE INDEX cases_contact ON cases (contact_id);

CREATE TABLE contacts (
    contact_id  uuid PRIMARY KEY,
    needs       integer NOT NULL,
    councillor  text
);

-- People who reported the same problem and follow the case.
CREATE TABLE reporters (
    case_id     uuid  NOT NULL,
    contact_id  uuid  NOT NULL,
    customer_id uuid,
    customer    jsonb,
    PRIMARY KEY (case_id, contact_id)
);

-- Residents and councillors following a ward.
CREATE TABLE ward_subscriptions (
    ward          text NOT NULL,
    subscriber_id text NOT NULL,
    method        text NOT NULL,
    address       text NOT NULL,
    PRIMARY KEY (ward, subscriber_id)
);

-- Preferences and consent per customer and channel.
CREATE TABLE preferences (
    customer_id      uuid    PRIMARY KEY,
    preferred_method text    NOT NULL,
    consents         text[]  NOT NULL,        -- methods the customer agreed to be contacted by
    progress_updates boolean NOT NULL DEFAULT true,
    email            text,
    phone            text,
    postal_address   text,
    webhook_url      text
);

-- Every notification, keyed so that one trigger reaches one recipient with one template once.
CREATE TABLE notifications (
    notification_id  uuid        PRIMARY KEY,
    notification_key text        NOT NULL UNIQUE,
    trigger_event_id uuid        NOT NULL,
    case_id          uuid,
    contact_id       uuid,
    recipient_role   text        NOT NULL,
    recipient_id     text        NOT NULL,
    method           text        NOT NULL,
    address          text,
    template         text        NOT NULL,
    language         text        NOT NULL DEFAULT 'en',
    context          jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',  -- pending, sending, sent, failed
    attempts         integer     NOT NULL DEFAULT 0,
    due_at           timestamptz NOT NULL,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_due ON notifications (due_at) WHERE status = 'pending';

-- Surveys: asked on close for a sample, and six weeks after a repair.
CREATE TABLE surveys (
    survey_id    uuid        PRIMARY KEY,
    case_id      uuid        NOT NULL,
    kind         text        NOT NULL,
    service_area text        NOT NULL,
    due_at       timestamptz NOT NULL,
    requested    boolean     NOT NULL DEFAULT false,
    answered     boolean     NOT NULL DEFAULT false,
    UNIQUE (case_id, kind)
);
