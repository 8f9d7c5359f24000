-- Announcements, the posts seen, and the delivery ledger (SQLite). Times are UTC.

-- name: state-get
SELECT value FROM store_state WHERE key = @key;

-- name: state-set
INSERT INTO store_state (key, value) VALUES (@key, @value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: see-post
INSERT INTO posts_seen (post_id, video, seen_at, published_at, announced) VALUES (@post_id, @video, @now, @published_at, @announced)
ON CONFLICT (post_id) DO NOTHING;

-- name: create-announcement
INSERT INTO announcements (post_id, post_key, title, state, created_at) VALUES (@post_id, @post_key, @title, 'scheduled', @now)
ON CONFLICT (post_id) DO NOTHING;

-- name: announcement-by-post
SELECT * FROM announcements WHERE post_id = @post_id;

-- name: announcement-by-id
SELECT * FROM announcements WHERE id = @id;

-- Everything not done, oldest first: what a firing sends.
-- name: announcements-open
SELECT * FROM announcements WHERE state <> 'done' ORDER BY id;

-- name: announcements-all
SELECT * FROM announcements ORDER BY id;

-- A lease, taken or renewed: no other process sends this announcement until it lapses.
-- name: take-lease
UPDATE announcements SET lease_owner = @owner, lease_until = @until,
    state = CASE WHEN state = 'scheduled' THEN 'sending' ELSE state END,
    started_at = COALESCE(started_at, @now)
WHERE id = @id AND (lease_owner IS NULL OR lease_owner = @owner OR lease_until < @now);

-- name: release-lease
UPDATE announcements SET lease_owner = NULL, lease_until = NULL WHERE id = @id AND lease_owner = @owner;

-- name: lease-owner
SELECT lease_owner FROM announcements WHERE id = @id;

-- One row per confirmed subscriber not in the ledger yet: at the start of a run, and again at its
-- end for those who confirmed meanwhile.
-- name: add-deliveries
INSERT INTO deliveries (announcement_id, subscriber_id, status, updated_at)
SELECT @id, id, 'pending', @now FROM subscribers WHERE status = 'confirmed'
ON CONFLICT (announcement_id, subscriber_id) DO NOTHING;

-- The next rows to send, by subscriber id after @after: pending ones, and deferred ones whose time has come.
-- name: due-deliveries
SELECT d.subscriber_id, d.attempts, d.first_attempt_at, d.possible_duplicates,
       s.email, s.name, s.status AS subscriber_status, s.hard_bounces
FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
WHERE d.announcement_id = @id AND d.subscriber_id > @after
  AND (d.status = 'pending' OR (d.status = 'deferred' AND d.next_attempt_at <= @now))
ORDER BY d.subscriber_id
LIMIT @limit;

-- name: record-delivery
UPDATE deliveries SET status = @status, attempts = @attempts, first_attempt_at = COALESCE(first_attempt_at, @first_attempt_at),
    next_attempt_at = @next_attempt_at, last_reply = @last_reply, message_id = @message_id,
    possible_duplicates = @possible_duplicates, updated_at = @now
WHERE announcement_id = @id AND subscriber_id = @subscriber_id;

-- name: count-hard-bounce
UPDATE subscribers SET hard_bounces = hard_bounces + 1,
    status = CASE WHEN hard_bounces + 1 >= @threshold AND status = 'confirmed' THEN 'bounced' ELSE status END
WHERE id = @subscriber_id;

-- name: delivery-counts
SELECT status, COUNT(*), COALESCE(SUM(possible_duplicates), 0) FROM deliveries WHERE announcement_id = @id GROUP BY status;

-- name: next-retry
SELECT MIN(next_attempt_at) FROM deliveries WHERE announcement_id = @id AND status = 'deferred';

-- name: finish-announcement
UPDATE announcements SET state = 'done', done_at = @now
WHERE id = @id AND NOT EXISTS (SELECT 1 FROM deliveries WHERE announcement_id = @id AND status IN ('pending', 'deferred'));

-- `announce retry ID`: the failed rows get another chance.
-- name: retry-failed
UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, first_attempt_at = NULL, updated_at = @now
WHERE announcement_id = @id AND status = 'failed';

-- name: reopen-announcement
UPDATE announcements SET state = 'sending', done_at = NULL WHERE id = @id AND state = 'done';

-- name: sent-since
SELECT updated_at FROM deliveries WHERE status = 'sent' AND updated_at > @since ORDER BY updated_at;

-- name: seen-ids
SELECT post_id, video FROM posts_seen;

-- The ledger's own connection: in WAL mode, NORMAL makes a commit a write to the log without an
-- fsync. A killed process loses nothing (the log is in the kernel's cache); a power cut may lose the
-- last outcomes, which then go again: duplicates, never losses. A commit per message stays cheap.
-- The log is copied back into the database (a checkpoint, with an fsync) every 8,192 pages rather
-- than SQLite's 1,000: fewer, larger checkpoints, and a page written by many outcomes copied once.
-- name: ledger-session
PRAGMA synchronous = NORMAL;
PRAGMA wal_autocheckpoint = 8192;
