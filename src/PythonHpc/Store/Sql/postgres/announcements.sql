-- The ledger as PostgreSQL needs it said; the rest is in common/announcements.sql.

-- Claims as sqlite/announcements.sql says, with the rows ahead and the lapsed ones as two searches
-- for the same reason. FOR UPDATE SKIP LOCKED: rows another node is claiming at this moment are
-- passed over rather than waited for, so two nodes never take one row and never queue behind each
-- other (PostgreSQL takes no locking clause on a UNION, so each search has its own).
-- name: claim-deliveries
WITH ahead AS (
    SELECT announcement_id, subscriber_id FROM deliveries
    WHERE announcement_id = @id AND subscriber_id > @after
      AND (status = 'pending' OR (status = 'deferred' AND next_attempt_at <= @now))
      AND (claimed_until IS NULL OR claimed_until < @now)
    ORDER BY subscriber_id
    LIMIT @limit
    FOR UPDATE SKIP LOCKED),
lapsed AS (
    SELECT announcement_id, subscriber_id FROM deliveries
    WHERE announcement_id = @id AND claimed_by IS NOT NULL AND claimed_until < @now
      AND (status = 'pending' OR (status = 'deferred' AND next_attempt_at <= @now))
    LIMIT @limit
    FOR UPDATE SKIP LOCKED),
free AS (
    SELECT announcement_id, subscriber_id FROM ahead
    UNION
    SELECT announcement_id, subscriber_id FROM lapsed
    ORDER BY subscriber_id
    LIMIT @limit)
UPDATE deliveries d SET claimed_by = @owner, claimed_until = @until
FROM free, subscribers s
WHERE d.announcement_id = free.announcement_id AND d.subscriber_id = free.subscriber_id AND s.id = d.subscriber_id
RETURNING d.subscriber_id, d.attempts, d.first_attempt_at, d.possible_duplicates, s.email, s.name, s.status AS subscriber_status;

-- The ledger's own connection: a commit returns once the server has the outcome, without waiting
-- for its disk. A node killed mid-run loses nothing (the server has it); only a crash of the server
-- itself may lose the last fraction of a second of outcomes, which then go again: duplicates, never
-- losses. A commit per message stays cheap.
-- name: ledger-session
SET synchronous_commit = off;

-- A node's claims extended while it sends, passing over the rows its ledger is recording at this
-- moment (they lose their claim in that commit). Waiting for them could deadlock: the ledger's
-- transaction holds the rows it has updated and waits for its next, which the renewal may hold
-- already. PostgreSQL then aborts one side, and an aborted commit would leave messages that went
-- unrecorded, to be sent again. Only ever extended: a renewal late on its way must not shorten a
-- claim taken after it started.
-- name: renew-claims
UPDATE deliveries d SET claimed_until = @until
FROM (SELECT announcement_id, subscriber_id FROM deliveries
      WHERE announcement_id = @id AND claimed_by = @owner AND claimed_until < @until
      FOR UPDATE SKIP LOCKED) mine
WHERE d.announcement_id = mine.announcement_id AND d.subscriber_id = mine.subscriber_id;
