-- The duplicate search was the only reader of this index, and now asks by spot, property and street
-- (0004). Left in place, a table too new for statistics was still read whole through it.
DROP INDEX known_cases_service_open;
