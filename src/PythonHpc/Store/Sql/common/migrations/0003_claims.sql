-- Delivery rows claimed by one sender at a time, so that several processes (the nodes of a cluster,
-- or the service and `announce send-now`) can send one announcement together, each row by one of
-- them. A claim lapses at claimed_until: the rows of a process that died go to another.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_until {time};
CREATE INDEX deliveries_claimed ON deliveries (announcement_id, claimed_by) WHERE claimed_by IS NOT NULL;

-- The claims replace the lease that gave a whole announcement to one process.
ALTER TABLE announcements DROP COLUMN lease_owner;
ALTER TABLE announcements DROP COLUMN lease_until;
