-- How each known case closed: a repeat contact follows an answer (resolved or declined), not a withdrawal.
-- Cases closed before the outcome was kept are taken as answered, as nearly all were.
ALTER TABLE known_cases ADD COLUMN outcome text;
UPDATE known_cases SET outcome = 'resolved' WHERE closed_at IS NOT NULL;
