-- Whose personal data each case's row holds (its customer, or its contact's own subject when the customer
-- was never identified), so that erasing them clears the notes shown for the case.
ALTER TABLE case_summary ADD COLUMN data_subject uuid;
CREATE INDEX case_summary_subject ON case_summary (data_subject);
