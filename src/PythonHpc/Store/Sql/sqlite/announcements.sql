-- The ledger as SQLite needs it said; the rest is in common/announcements.sql.

-- Claims for @owner, until @until, up to @limit rows due now (pending ones, and deferred ones whose
-- time has come) that no one holds: those after subscriber @after (where the run has got to), and,
-- wherever they are, those whose holder's claim has lapsed (it died, or stalled), so that a run
-- under way takes over a dead node's rows as soon as they are free. Returns the rows with the
-- subscriber as they are now, in no order. SQLite has one writer at a time, so this UPDATE alone is
-- atomic. The two kinds are two searches: the rows ahead a range of the primary key from @after,
-- the lapsed ones the partial index of claimed rows (in no order of their own, or SQLite would walk
-- the primary key for it). As one condition ("after @after or claimed")
-- SQLite scanned the announcement's rows from the first for every batch: a run's claims cost grew
-- with the square of its subscribers (25 µs a message at 80,000, perf).
-- name: claim-deliveries
UPDATE deliveries SET claimed_by = @owner, claimed_until = @until
WHERE announcement_id = @id AND subscriber_id IN (
    SELECT subscriber_id FROM (
        SELECT subscriber_id FROM deliveries
        WHERE announcement_id = @id AND subscriber_id > @after
          AND (status = 'pending' OR (status = 'deferred' AND next_attempt_at <= @now))
          AND (claimed_until IS NULL OR claimed_until < @now)
        ORDER BY subscriber_id
        LIMIT @limit)
    UNION
    SELECT subscriber_id FROM (
        SELECT subscriber_id FROM deliveries
        WHERE announcement_id = @id AND claimed_by IS NOT NULL AND claimed_until < @now
          AND (status = 'pending' OR (status = 'deferred' AND next_attempt_at <= @now))
        LIMIT @limit)
    ORDER BY subscriber_id
    LIMIT @limit)
-- RETURNING names only the table it updates; the subscriber's columns come by subqueries.
RETURNING subscriber_id, attempts, first_attempt_at, possible_duplicates,
    (SELECT s.email FROM subscribers s WHERE s.id = deliveries.subscriber_id) AS email,
    (SELECT s.name FROM subscribers s WHERE s.id = deliveries.subscriber_id) AS name,
    (SELECT s.status FROM subscribers s WHERE s.id = deliveries.subscriber_id) AS subscriber_status;

-- The ledger's own connection: in WAL mode, NORMAL makes a commit a write to the log without an
-- fsync. A killed process loses nothing (the log is in the kernel's cache); a power cut may lose the
-- last outcomes, which then go again: duplicates, never losses. A commit per message stays cheap.
-- The log is copied back into the database (a checkpoint, with an fsync) every 8,192 pages rather
-- than SQLite's 1,000: fewer, larger checkpoints, and a page written by many outcomes copied once.
-- name: ledger-session
PRAGMA synchronous = NORMAL;
PRAGMA wal_autocheckpoint = 8192;

-- A process's claims extended while it sends (SQLite has one writer at a time: no row to wait for).
-- Only ever extended: a renewal late on its way must not shorten a claim taken after it started.
-- name: renew-claims
UPDATE deliveries SET claimed_until = @until WHERE announcement_id = @id AND claimed_by = @owner AND claimed_until < @until;
