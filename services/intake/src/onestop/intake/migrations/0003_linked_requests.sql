-- A request linked to a case already open (a duplicate report) follows that case's progress.
ALTER TABLE open311_requests ADD COLUMN linked_case_id uuid;
CREATE INDEX open311_requests_linked ON open311_requests (linked_case_id) WHERE linked_case_id IS NOT NULL;
