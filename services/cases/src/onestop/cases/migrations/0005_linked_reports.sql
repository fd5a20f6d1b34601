-- A report linked to a case already open is tracked by the reference its own receipt gave (derived from its
-- contact and need, as every case's is): that reference leads to the case it was linked to.
CREATE TABLE linked_reports (
    reference  text PRIMARY KEY,
    case_id    uuid NOT NULL,
    contact_id uuid NOT NULL
);
