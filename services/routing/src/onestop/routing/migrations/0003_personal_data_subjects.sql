-- Whose personal data each row holds (a customer's, or an unidentified contact's own subject), so that
-- erasing them reaches it: a known case's property, and a contact waiting in triage.
ALTER TABLE known_cases ADD COLUMN data_subject uuid;
CREATE INDEX known_cases_subject ON known_cases (data_subject);
ALTER TABLE triage_queue ADD COLUMN data_subject uuid;
CREATE INDEX triage_queue_subject ON triage_queue (data_subject);
