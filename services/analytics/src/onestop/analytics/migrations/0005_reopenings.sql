-- Each reopening of a closed case, when it happened: reopened cases are counted as a measure (a closure
-- that did not put things right). The fact tables are as in 0004, with this one added.
-- Run `python -m onestop.analytics rebuild` afterwards to fill it in from the log.
CREATE OR REPLACE FUNCTION create_fact_tables(target text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', target);
    EXECUTE format($ddl$
        CREATE TABLE IF NOT EXISTS %1$I.contacts (
            contact_id uuid PRIMARY KEY, channel text NOT NULL, self_service boolean NOT NULL,
            received_at timestamptz NOT NULL, needs integer NOT NULL);
        CREATE TABLE IF NOT EXISTS %1$I.needs (
            contact_id uuid NOT NULL, need_id uuid NOT NULL, service_code text, kind text NOT NULL,
            received_at timestamptz NOT NULL, channel text NOT NULL, PRIMARY KEY (contact_id, need_id));
        CREATE TABLE IF NOT EXISTS %1$I.assessments (
            contact_id uuid NOT NULL, need_id uuid NOT NULL, assessed_at timestamptz NOT NULL, received_at timestamptz,
            channel text NOT NULL, service_area text NOT NULL, avoidable boolean NOT NULL, category text,
            explanation text NOT NULL, service_code text, related_case_id uuid, PRIMARY KEY (contact_id, need_id));
        CREATE TABLE IF NOT EXISTS %1$I.duplicates (
            contact_id uuid NOT NULL, need_id uuid NOT NULL, case_id uuid NOT NULL, linked_at timestamptz NOT NULL,
            received_at timestamptz, PRIMARY KEY (contact_id, need_id));
        CREATE TABLE IF NOT EXISTS %1$I.cases (
            case_id uuid PRIMARY KEY, contact_id uuid NOT NULL, reference text NOT NULL, service_code text NOT NULL,
            service_area text NOT NULL, channel text NOT NULL, kind text NOT NULL, raised_at timestamptz NOT NULL,
            sla_due_at timestamptz, closed_at timestamptz, outcome text, within_sla boolean,
            first_contact boolean NOT NULL DEFAULT false);
        CREATE TABLE IF NOT EXISTS %1$I.complaint_stages (
            case_id uuid NOT NULL, stage text NOT NULL, started_at timestamptz NOT NULL, due_at timestamptz,
            PRIMARY KEY (case_id, stage));
        CREATE TABLE IF NOT EXISTS %1$I.calls (
            call_id uuid PRIMARY KEY, queue text, offered_at timestamptz, answered_at timestamptz,
            abandoned_at timestamptz, wait_seconds double precision);
        CREATE TABLE IF NOT EXISTS %1$I.tickets (
            ticket_id uuid PRIMARY KEY, site text, issued_at timestamptz, served_at timestamptz,
            wait_seconds double precision, booked boolean NOT NULL DEFAULT false);
        CREATE TABLE IF NOT EXISTS %1$I.notifications_sent (
            notification_id uuid PRIMARY KEY, case_id uuid, sent_at timestamptz NOT NULL);
        CREATE TABLE IF NOT EXISTS %1$I.feedback (
            survey_id uuid PRIMARY KEY, case_id uuid NOT NULL, service_area text NOT NULL,
            received_at timestamptz NOT NULL, satisfied boolean NOT NULL, score integer NOT NULL);
        CREATE TABLE IF NOT EXISTS %1$I.hand_off_models (
            case_id uuid PRIMARY KEY, hand_off_model text NOT NULL);
        CREATE TABLE IF NOT EXISTS %1$I.reopenings (
            case_id uuid NOT NULL, reopened_at timestamptz NOT NULL, PRIMARY KEY (case_id, reopened_at));
    $ddl$, target);
END;
$$;

CREATE TABLE IF NOT EXISTS facts.reopenings (
    case_id uuid NOT NULL, reopened_at timestamptz NOT NULL, PRIMARY KEY (case_id, reopened_at));
