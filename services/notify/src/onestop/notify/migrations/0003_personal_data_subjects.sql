-- Whose personal data each row holds: a case's customer (or its contact's own subject when the customer
-- was never identified), and each notification's recipient or case, so that erasing them reaches the
-- outcome kept for a case, and the addresses, message details and provider errors of notifications.
ALTER TABLE cases ADD COLUMN data_subject uuid;
CREATE INDEX cases_subject ON cases (data_subject);
ALTER TABLE notifications ADD COLUMN data_subject uuid;
CREATE INDEX notifications_subject ON notifications (data_subject);
