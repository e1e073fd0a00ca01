-- Scale-out (issue 13, item 4): several `kapstone serve` processes over one database each run
-- the worker. A queued message is claimed before it is sent: the claim names its holder and
-- lasts until `lease_until`, so two workers never send the same message, and one whose holder
-- died mid-send is claimable again once the lease has run out. Sending (or a failed attempt)
-- clears the claim. Schedules and reminders need no lease: each is fired by a compare-and-set
-- inside the transaction that makes its link.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TIMESTAMPTZ;
-- What the worker claims from: pending messages, oldest first.
CREATE INDEX outbox_pending ON outbox (created_at) WHERE status = 'pending';
