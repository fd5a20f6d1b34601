-- What the complaints report counts: the services a complaint spans, whether it is about a contractor or
-- came through a councillor (yes or no only: who they are is sealed in the events), and a referral to the
-- nation's ombudsman after stage 2 (which one, when, and the ombudsman's reference).
ALTER TABLE case_summary ADD COLUMN complaint_services text[];
ALTER TABLE case_summary ADD COLUMN complaint_about_contractor boolean NOT NULL DEFAULT false;
ALTER TABLE case_summary ADD COLUMN complaint_via_councillor boolean NOT NULL DEFAULT false;
ALTER TABLE case_summary ADD COLUMN ombudsman text;
ALTER TABLE case_summary ADD COLUMN ombudsman_referred_at timestamptz;
ALTER TABLE case_summary ADD COLUMN ombudsman_reference text;
