-- Whose personal data each row holds (a customer's, or an unidentified contact's own subject), so that
-- erasing them reaches it: an Open311 request's text and address, and the attachments of their contacts.
ALTER TABLE open311_requests ADD COLUMN data_subject uuid;
CREATE INDEX open311_requests_subject ON open311_requests (data_subject);
ALTER TABLE attachments ADD COLUMN data_subject uuid;
CREATE INDEX attachments_subject ON attachments (data_subject);
