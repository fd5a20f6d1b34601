-- A sender claims due notifications for a lease: a row left `sending` by a sender that died is due again
-- once its claim is older than the lease, so nothing is lost; `claim_id` tells a sender its claim was taken over.
ALTER TABLE notifications ADD COLUMN claim_id uuid, ADD COLUMN claimed_at timestamptz;
CREATE INDEX notifications_claimed ON notifications (claimed_at) WHERE status = 'sending';
